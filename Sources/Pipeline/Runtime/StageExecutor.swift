import Model
import Schedule
import Tensor

/// The compute side of one pipeline rank: the stages it holds, the step's data, and the tensors
/// that wait between actions. The interpreter hands it each compute action in program order, the
/// tensors that arrived (`deliver`), and takes the tensors to send (`takeOutgoing`).
public final class StageExecutor {
    /// A tensor between two actions: the activation a forward consumes or the gradient a backward
    /// consumes, named by the consuming chunk (as `Transfer.chunk` names it).
    struct Slot: Hashable {
        var payload: Payload
        var chunk: Chunk
    }

    public let configuration: PipelineConfiguration
    public let pipelineRank: Int
    /// Held stages by global stage index.
    public let stages: [Int: any StageModule]
    private var inbox: [Slot: Tensor] = [:]
    private var outbox: [Slot: Tensor] = [:]
    private var data: (Int) -> StageBatch = { _ in preconditionFailure("executor used before begin(...)") }
    private var batches: [Int: StageBatch] = [:]
    private var lossGradient: Float = 0
    private var forwardOnly = false
    /// Local micro-batch -> loss, for the micro-batches whose last stage ran here this step.
    public private(set) var losses: [Int: Float] = [:]

    public init(configuration: PipelineConfiguration, pipelineRank: Int, stages: [any StageModule]) {
        self.configuration = configuration
        self.pipelineRank = pipelineRank
        self.stages = Dictionary(uniqueKeysWithValues: stages.map { ($0.index, $0) })
    }

    /// Starts a pass: `data` gives local micro-batch m's tokens and targets; each last stage's
    /// backward starts from `lossGradient` (1 / micro-batches of the step, for the mean loss).
    /// `forwardOnly` runs F alone and frees each micro-batch's saved context right after it.
    public func begin(data: @escaping (Int) -> StageBatch, lossGradient: Float, forwardOnly: Bool) {
        precondition(inbox.isEmpty && outbox.isEmpty, "a new pass began with \(inbox.count + outbox.count) tensors of the last one unused")
        self.data = data
        self.lossGradient = lossGradient
        self.forwardOnly = forwardOnly
        batches = [:]
        losses = [:]
    }

    /// `begin` for the language model: its sampler's byte windows.
    public func begin(data: @escaping (Int) -> MicroBatch, lossGradient: Float, forwardOnly: Bool) {
        begin(data: { data($0).stageBatch }, lossGradient: lossGradient, forwardOnly: forwardOnly)
    }

    /// A received tensor, for the action that consumes `chunk`.
    func deliver(_ tensor: Tensor, _ payload: Payload, for chunk: Chunk) {
        precondition(inbox.updateValue(tensor, forKey: Slot(payload: payload, chunk: chunk)) == nil,
                     "\(payload) for \(chunk) delivered twice")
    }

    /// The tensor an earlier action produced for another rank's `chunk`.
    func takeOutgoing(_ payload: Payload, for chunk: Chunk) -> Tensor {
        guard let tensor = outbox.removeValue(forKey: Slot(payload: payload, chunk: chunk)) else {
            preconditionFailure("no \(payload) for \(chunk) to send: the program sends before computing it")
        }
        return tensor
    }

    /// How an FB pair runs its F and B: phase by phase alternately (`interleaved`: each one's
    /// expert exchanges fly while the other computes), or F's phases then B's (`sequential`: where
    /// no exchange crosses ranks, the passes keep their caches). Either way F's output leaves when
    /// F ends, B's input gradient before the pair's W, and B's output gradient may arrive late.
    public enum PairOrder: String, Sendable {
        case interleaved, sequential

        /// Interleaved where there may be something to hide: an EP group's all-to-alls (EP > 1),
        /// or a pipeline across nodes (at 1 ms between the local nodes the alternating pair won
        /// with 4 micro-batches and lost with 8). Sequential on one node with EP 1, where the
        /// alternation only costs caches (a sequential step took 0.92 to 1.00 of an alternating
        /// one). See docs/performance.md.
        public static func `default`(expertParallel: Int, nodes: Int) -> PairOrder {
            expertParallel > 1 || nodes > 1 ? .interleaved : .sequential
        }

        /// `--overlap` (true) or `--no-overlap` (false) where given, else `default`.
        public init(overlap: Bool?, expertParallel: Int, nodes: Int) {
            self = overlap.map { $0 ? .interleaved : .sequential } ?? .default(expertParallel: expertParallel, nodes: nodes)
        }
    }
    public var pairOrder = PairOrder.interleaved
    /// Runs between compute phases (of every action): lets MPI progress the messages in flight.
    public var progress: () -> Void = {}
    /// Whether `progress` runs at all (off: MPI progresses messages only inside MPI calls, or
    /// on a progress thread).
    public var pollsBetweenPhases = true
    private var poll: () -> Void { pollsBetweenPhases ? progress : {} }

    /// Runs `action`. `lateGradient`, for an FB pair whose backward's output gradient was still in
    /// flight when the pair began (see `Interpreter`), hands that gradient over once it is here:
    /// nil while it is not, and it blocks when asked to. F's phases run while it flies.
    public func run(_ action: Action, lateGradient: ((_ blocking: Bool) throws -> Tensor?)? = nil) throws {
        precondition(lateGradient == nil || (action.backwardChunk != nil && action.forwardChunk != nil),
                     "only an FB pair takes its gradient late, not \(action)")
        switch action {
        case .forward(let c):
            forward(c)
        case .backwardInput(let c):
            backwardInput(c)
        case .backwardWeight(let c):
            stage(c).backwardWeight(c.microBatch, between: poll)
        case .backward(let c):
            backwardInput(c, announced: true)
            stage(c).backwardWeight(c.microBatch, between: poll)
        case .forwardBackward(let f, let b):
            let (input, targets) = forwardInput(f)
            let forward = stage(f).forwardPhases(f.microBatch, input, targets: targets)
            let backward: (Bool) throws -> PhaseList? = { [self] blocking in
                guard let lateGradient else { return stage(b).backwardInputPhases(b.microBatch, outputGradient(b)) }
                return try lateGradient(blocking).map { stage(b).backwardInputPhases(b.microBatch, $0) }
            }
            let forwardDone = { [self] in finishForward(f, forward.result!, announced: true) }
            let phases = switch pairOrder {
            case .interleaved: try interleave(forward, lateBackward: backward, forwardDone: forwardDone, between: poll)
            case .sequential: try inSequence(forward, lateBackward: backward, forwardDone: forwardDone, between: poll)
            }
            finishBackward(b, phases.result!, announced: true)
            stage(b).backwardWeight(b.microBatch, between: poll)
        }
    }

    private func stage(_ c: Chunk) -> any StageModule {
        guard let stage = stages[c.stage] else {
            preconditionFailure("pipeline rank \(pipelineRank) holds stages \(stages.keys.sorted()), not \(c.stage)")
        }
        return stage
    }

    private func batch(_ mb: Int) -> StageBatch {
        if let batch = batches[mb] { return batch }
        let batch = data(mb)
        batches[mb] = batch
        return batch
    }

    private var lastStage: Int { configuration.schedule.stages - 1 }

    private func forward(_ c: Chunk) {
        let (input, targets) = forwardInput(c)
        let phases = stage(c).forwardPhases(c.microBatch, input, targets: targets)
        for phase in phases.phases { phase(); poll() }
        finishForward(c, phases.result!)
    }

    /// F's input (the tokens on the first stage, else the received activation) and, on the last
    /// stage, the targets.
    private func forwardInput(_ c: Chunk) -> (Tensor, LossTargets?) {
        (c.stage == 0 ? batch(c.microBatch).input : take(.activation, c), c.stage == lastStage ? batch(c.microBatch).targets : nil)
    }

    /// `announced`: the output of a pair's forward, told to `outputReady` so that it leaves
    /// while the pair's backward computes.
    private func finishForward(_ c: Chunk, _ output: Tensor, announced: Bool = false) {
        if forwardOnly { stage(c).discard(c.microBatch) }
        if c.stage == lastStage {
            losses[c.microBatch] = output.scalars[0]
        } else {
            produce(output, .activation, for: Chunk(stage: c.stage + 1, microBatch: c.microBatch), announced: announced)
        }
    }

    /// `announced`: a BW's or FB's input gradient, which leaves before the action's W.
    private func backwardInput(_ c: Chunk, announced: Bool = false) {
        let phases = stage(c).backwardInputPhases(c.microBatch, outputGradient(c))
        for phase in phases.phases { phase(); poll() }
        finishBackward(c, phases.result!, announced: announced)
    }

    /// B's output gradient: `lossGradient` on the last stage, else the received gradient.
    private func outputGradient(_ c: Chunk) -> Tensor {
        c.stage == lastStage ? Tensor(shape: [1], scalars: [lossGradient]) : take(.gradient, c)
    }

    /// `announced`: the input gradient of a BW's or a pair's backward, told to `outputReady` so
    /// that it leaves while the action's W computes.
    private func finishBackward(_ c: Chunk, _ inputGradient: Tensor, announced: Bool = false) {
        if c.stage > 0 { produce(inputGradient, .gradient, for: Chunk(stage: c.stage - 1, microBatch: c.microBatch), announced: announced) }
    }

    private func take(_ payload: Payload, _ c: Chunk) -> Tensor {
        guard let tensor = inbox.removeValue(forKey: Slot(payload: payload, chunk: c)) else {
            preconditionFailure("pipeline rank \(pipelineRank): no \(payload) for \(c): the program computes before receiving it")
        }
        return tensor
    }

    /// An output goes straight to the inbox when its consumer runs on this rank too (DualPipeV's
    /// turn from stage PP-1 to stage PP), to the outbox otherwise.
    private func produce(_ tensor: Tensor, _ payload: Payload, for consumer: Chunk, announced: Bool = false) {
        let slot = Slot(payload: payload, chunk: consumer)
        if configuration.schedule.rank(of: consumer) == pipelineRank {
            inbox[slot] = tensor
        } else {
            outbox[slot] = tensor
            if announced { outputReady(payload, consumer) }
        }
    }

    /// Called when an action has made an output for another rank before it ends: an interleaved
    /// FB pair's forward activation while its backward still has phases to run, and the input
    /// gradient of a BW or of a pair's backward before the action's W. The interpreter posts its
    /// send right away. (F's and B's outputs leave after their compute, which ends with them.)
    public var outputReady: (Payload, Chunk) -> Void = { _, _ in }
}
