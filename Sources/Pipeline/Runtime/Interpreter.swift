import MPI
#if canImport(Glibc)
import Glibc
#endif
import Schedule
import Tensor

/// Runs one rank's lowered program, instruction by instruction, and decides nothing itself:
/// postReceive posts a receive into a pooled buffer, waitReceive completes it and hands the
/// tensor to the executor, compute runs the action, postSend copies the action's output into a
/// pooled buffer that the send request holds, waitSend completes it and returns the buffer.
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
    private var computes = 0
    private var receives: [Transfer: (request: T.Request, buffer: MessageBuffer<Float>)] = [:]
    /// Each send with when it was posted and when it was first seen complete (nil: not yet).
    private var sends: [Transfer: (request: T.Request, buffer: MessageBuffer<Float>, posted: Double, done: Double?)] = [:]

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
            guard try complete(request, blocking: blocking, "recv \(t.description)", t) else { return false }
            receives[t] = nil
            executor.deliver(Tensor(shape: messageShape, scalars: Array(buffer.pointer.prefix(messageFloats))), t.payload, for: t.chunk)
            pool.release(buffer)
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
            executor.run(action)
            recorder.record(.compute, action.description, start: start, end: monotonicSeconds())
        case .postSend(let t):
            let tensor = executor.takeOutgoing(t.payload, for: t.chunk)
            guard tensor.count == messageFloats else { throw broken(instruction, "the tensor has shape \(tensor.shape), messages are \(messageShape)") }
            let buffer = pool.acquire()
            tensor.scalars.withUnsafeBufferPointer { buffer.pointer.baseAddress!.update(from: $0.baseAddress!, count: messageFloats) }
            sends[t] = (try transport.postSend(buffer, count: messageFloats, to: t.destination, tag: t.tag), buffer, monotonicSeconds(), nil)
            recorder.countSent(floats: messageFloats)
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

    /// Tests every posted receive and send (MPI_Test), so that messages move while the rank is
    /// between compute phases; a request found complete is simply complete when its wait comes.
    public func progressPending() {
        for (request, _) in receives.values { _ = try? transport.test(request) }
        for (t, send) in sends where send.done == nil {
            if (try? transport.test(send.request)) == true { sends[t]?.done = monotonicSeconds() }
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

    /// The compute action the current instruction leads to.
    private var nextCompute: String? {
        for instruction in program[next...] { if case .compute(let action) = instruction { return action.description } }
        return nil
    }

    private func broken(_ instruction: Instruction, _ why: String) -> PipelineError {
        PipelineError("pipeline rank \(pipelineRank), instruction \(next) (\(instruction)): \(why)")
    }
}
