import MPI
#if canImport(Glibc)
import Glibc
#endif
import Schedule
import Tensor

/// Runs one rank's lowered program, instruction by instruction: postReceive posts a receive into
/// a pooled buffer, waitReceive completes it and hands the tensor to the executor, compute runs
/// the action, postSend copies the action's output into a pooled buffer that the send request
/// holds, waitSend completes it and returns the buffer. It moves two things within that order,
/// never the data: an output made before its action ends is sent then (an FB pair's forward
/// output while its backward computes; the input gradient of a pair or of a BW before its W),
/// and the wait for an FB pair's backward gradient, when that gradient is still in flight,
/// moves into the pair, after its forward.
public final class Interpreter<T: Transport> {
    public let program: [Instruction]
    public let pipelineRank: Int
    let transport: T
    let executor: StageExecutor
    let pool: BufferPool
    public let recorder: StepRecorder
    /// Floats in every message: an activation or a gradient `[tokens, hidden]`.
    let messageFloats: Int
    let messageShape: [Int]
    private var next = 0
    /// Failure drill: the pass throws after this many compute actions (nil: never), or with
    /// `killsItself` the process ends itself with SIGKILL there.
    public var failAfterComputes: Int?
    public var killsItself = false
    /// Watchdog: a message wait longer than this ends the pass with what was awaited (nil: none).
    public var commTimeout: Double?
    /// The step being run, for watchdog reports.
    public var stepNumber = 0
    /// Runs after each compute with its ordinal in the pass (from 0): the gradient sums of a stage
    /// start there once the stage is final.
    public var afterCompute: (Int) throws -> Void = { _ in }
    private var computes = 0
    private var receives: [Transfer: (request: T.Request, buffer: MessageBuffer<Float>)] = [:]
    /// Each send with when it was posted and when it was first seen complete (nil: not yet).
    private var sends: [Transfer: (request: T.Request, buffer: MessageBuffer<Float>, posted: Double, done: Double?)] = [:]
    /// The gradient whose wait was moved into the next compute, an FB pair that interleaves: with
    /// blocking `advance`, such a pair starts before its backward's gradient has arrived and waits
    /// for it after its forward's phases (`interleave(_:lateBackward:)`). Nothing is computed
    /// differently, only where the rank blocks.
    private var deferred: Transfer?
    /// Sends posted from inside a compute (see `postEarly`).
    private var postedEarly: Set<Transfer> = []
    /// An error of a send posted from inside a compute, thrown once the compute returns.
    private var earlyFailure: Error?

    /// `messageShape` is `[tokens, hidden]` of a micro-batch; `pool` buffers must hold it.
    public init(program: [Instruction], pipelineRank: Int, transport: T, executor: StageExecutor,
                pool: BufferPool, messageShape: [Int], recorder: StepRecorder = StepRecorder()) {
        self.program = program
        self.pipelineRank = pipelineRank
        self.transport = transport
        self.executor = executor
        self.pool = pool
        self.recorder = recorder
        self.messageShape = messageShape
        messageFloats = messageShape.reduce(1, *)
        precondition(pool.capacity >= messageFloats, "pool buffers of \(pool.capacity) floats cannot hold \(messageShape)")
    }

    public var isFinished: Bool { next == program.count }

    /// Compute actions in the program.
    public var computeCount: Int {
        program.reduce(0) { count, instruction in
            if case .compute = instruction { return count + 1 }
            return count
        }
    }

    /// The next instruction, for reports: "instruction 7 of 40 (waitReceive(...))".
    public var position: String {
        next < program.count ? "instruction \(next) of \(program.count) (\(program[next]))" : "the end"
    }

    /// Runs the whole program from its first instruction, blocking on each wait.
    public func run() throws {
        restart()
        while try advance(blocking: true) {}
    }

    /// Executes the next instruction. Returns false when the program is finished, or when
    /// `blocking` is false and the next instruction waits on a message still in flight (so that
    /// several interpreters can take turns on one thread).
    @discardableResult
    public func advance(blocking: Bool) throws -> Bool {
        guard next < program.count else { return false }
        let instruction = program[next]
        switch instruction {
        case .postReceive(let t):
            let buffer = pool.acquire()
            receives[t] = (try transport.postReceive(into: buffer, count: messageFloats, from: t.source, tag: t.tag), buffer)
        case .waitReceive(let t):
            guard let (request, buffer) = receives[t] else { throw broken(instruction, "it was never posted") }
            if blocking && takesLate(t), try !transport.test(request) {
                deferred = t
                break
            }
            guard try complete(request, blocking: blocking, "recv \(t.description)", t) else { return false }
            executor.deliver(collect(t, buffer), t.payload, for: t.chunk)
        case .compute(let action):
            if let limit = failAfterComputes, computes >= limit {
                if killsItself {
                    printError("pipeline rank \(pipelineRank): failure drill: killing itself with SIGKILL before \(action)")
                    kill(getpid(), SIGKILL)
                }
                throw PipelineError("failure drill: pipeline rank \(pipelineRank) fails on purpose before \(action), its compute action \(computes) of the pass")
            }
            computes += 1
            let start = monotonicSeconds()
            var blocked = 0.0
            // The executor is shared with the other pass's interpreter: this one listens only now.
            executor.outputReady = { [unowned self] payload, chunk in postEarly(payload, chunk) }
            defer { executor.outputReady = { _, _ in } }
            if let t = deferred {
                deferred = nil
                try executor.run(action, lateGradient: { [self] blocking in
                    guard let (request, buffer) = receives[t] else { throw broken(instruction, "the gradient it awaits, \(t), was never posted") }
                    let waitStart = monotonicSeconds()
                    guard try complete(request, blocking: blocking, "recv \(t.description)", t) else { return nil }
                    blocked += monotonicSeconds() - waitStart
                    return collect(t, buffer)
                })
                guard receives[t] == nil else { throw broken(instruction, "the pair never took the gradient \(t) it was to wait for") }
            } else {
                try executor.run(action)
            }
            recorder.record(.compute, action.description, start: start, end: monotonicSeconds(), blocked: blocked)
            if let error = earlyFailure { earlyFailure = nil; throw error }
            try afterCompute(computes - 1)
        case .postSend(let t):
            if postedEarly.remove(t) == nil { try postSend(t, instruction) }
        case .waitSend(let t):
            guard let (request, buffer, posted, done) = sends[t] else { throw broken(instruction, "it was never posted") }
            let start = monotonicSeconds()
            guard try complete(request, blocking: blocking, "send \(t.description)", t) else { return false }
            let end = monotonicSeconds()
            recorder.recordSend(inFlight: (done ?? end) - posted, blocked: done == nil ? end - start : 0)
            sends[t] = nil
            pool.release(buffer)
        }
        next += 1
        if next == program.count && !(receives.isEmpty && sends.isEmpty) {
            throw PipelineError("pipeline rank \(pipelineRank): the program ended with \(receives.count) receives and \(sends.count) sends never waited for")
        }
        return true
    }

    /// The tensor of the completed receive `t`, copied out of its buffer, which goes back to the pool.
    private func collect(_ t: Transfer, _ buffer: MessageBuffer<Float>) -> Tensor {
        receives[t] = nil
        defer { pool.release(buffer) }
        return Tensor(shape: messageShape, scalars: Array(buffer.pointer.prefix(messageFloats)))
    }

    private func postSend(_ t: Transfer, _ instruction: Instruction) throws {
        let tensor = executor.takeOutgoing(t.payload, for: t.chunk)
        guard tensor.count == messageFloats else { throw broken(instruction, "the tensor has shape \(tensor.shape), messages are \(messageShape)") }
        let buffer = pool.acquire()
        tensor.scalars.withUnsafeBufferPointer { buffer.pointer.baseAddress!.update(from: $0.baseAddress!, count: messageFloats) }
        sends[t] = (try transport.postSend(buffer, count: messageFloats, to: t.destination, tag: t.tag), buffer, monotonicSeconds(), nil)
        recorder.countSent(floats: messageFloats)
    }

    /// The executor's `outputReady` during a compute: an output exists before its action ends
    /// (an FB pair's forward output, a pair's or a BW's input gradient), so its send is posted
    /// now rather than after the compute, and flies while the action still computes. Its
    /// `postSend` instruction later finds it posted.
    private func postEarly(_ payload: Payload, _ chunk: Chunk) {
        guard earlyFailure == nil else { return }
        for (offset, instruction) in program[(next + 1)...].enumerated() {
            switch instruction {
            case .waitSend: continue
            case .postSend(let t) where t.payload == payload && t.chunk == chunk:
                do { try postSend(t, instruction); postedEarly.insert(t) } catch { earlyFailure = error }
                return
            case .postSend: continue
            default:
                earlyFailure = broken(program[next], "its output \(payload) for \(chunk) is sent by no instruction after it (looked \(offset) ahead)")
                return
            }
        }
    }

    /// Tests every posted receive and send (MPI_Test), so that messages move while the rank is
    /// between compute phases; a request found complete is simply complete when its wait comes.
    public func progressPending() {
        for (request, _) in receives.values { _ = try? transport.test(request) }
        for (t, send) in sends where send.done == nil {
            if (try? transport.test(send.request)) == true { sends[t]?.done = monotonicSeconds() }
        }
    }

    /// Whether the pass's messages are over for this rank: every receive taken, every send seen
    /// complete (by `progressPending` or its wait), and no message left in the program.
    public var messagesDone: Bool {
        guard receives.isEmpty, sends.values.allSatisfy({ $0.done != nil }) else { return false }
        return !program[next...].contains { instruction in
            switch instruction {
            case .postReceive, .postSend: true
            default: false
            }
        }
    }

    /// Rewinds to the first instruction for the next pass.
    public func restart() {
        precondition(next == 0 || isFinished, "restart before the program finished (at instruction \(next) of \(program.count))")
        next = 0
        computes = 0
    }

    private func complete(_ request: T.Request, blocking: Bool, _ what: String, _ t: Transfer) throws -> Bool {
        let peer = t.source == pipelineRank ? t.destination : t.source, tag = t.tag
        let start = monotonicSeconds()
        if blocking {
            guard try transport.wait(request, timeout: commTimeout) else {
                throw PipelineError("watchdog: pipeline rank \(pipelineRank) waited \(String(format: "%.1f", monotonicSeconds() - start)) s (--comm-timeout) for \(what) (\(t.payload == .activation ? "activation" : "gradient") of stage \(t.chunk.stage), micro-batch \(t.chunk.microBatch); peer pipeline rank \(peer), tag \(tag)) at instruction \(next) of \(program.count) of step \(stepNumber)\(nextCompute.map { ", before \($0)" } ?? ""); ending the job")
            }
        } else if try !transport.test(request) {
            return false
        }
        recorder.record(.wait, what, start: start, end: monotonicSeconds(), peer: peer, tag: tag)
        return true
    }

    /// Whether `t` is the gradient of the backward half of the FB pair that the waits and posts from
    /// here lead to: the one wait that may move into its compute. A pair that interleaves with
    /// EP > 1 never takes it: the ranks of an EP group must start their expert all-to-alls in the
    /// same order, so the order of its phases may not depend on when a message reached one of them
    /// (a sequential pair's order is F's phases, then B's, whenever the gradient comes).
    private func takesLate(_ t: Transfer) -> Bool {
        guard t.payload == .gradient && (executor.pairOrder == .sequential || executor.configuration.expertParallel == 1) else { return false }
        for instruction in program[(next + 1)...] {
            switch instruction {
            case .waitReceive, .postReceive: continue
            case .compute(.forwardBackward(_, let b)): return b == t.chunk
            default: return false
            }
        }
        return false
    }

    /// The compute action the current instruction leads to.
    private var nextCompute: String? {
        for instruction in program[next...] { if case .compute(let action) = instruction { return action.description } }
        return nil
    }

    private func broken(_ instruction: Instruction, _ why: String) -> PipelineError {
        PipelineError("pipeline rank \(pipelineRank), instruction \(next) (\(instruction)): \(why)")
    }
}
