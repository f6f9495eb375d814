/// What travels between two ranks.
public enum Payload: String, Sendable, Codable {
    /// A stage's output, the next stage's forward input.
    case activation
    /// The gradient of a stage's output, computed by the next stage's backward.
    case gradient
}

/// One point-to-point message of a schedule.
public struct Transfer: Hashable, Sendable, CustomStringConvertible {
    public var payload: Payload
    public var source: Int
    public var destination: Int
    /// The chunk that consumes the message: the forward of `chunk` for an activation, the backward
    /// of `chunk` for a gradient.
    public var chunk: Chunk
    /// 2 * micro-batch + (gradient ? 1 : 0). Unique per (source, destination) pair: between two ranks
    /// at most one activation and one gradient of a micro-batch go each way (the validator checks it).
    public var tag: Int

    public init(payload: Payload, source: Int, destination: Int, chunk: Chunk) {
        self.payload = payload
        self.source = source
        self.destination = destination
        self.chunk = chunk
        self.tag = 2 * chunk.microBatch + (payload == .gradient ? 1 : 0)
    }

    public var description: String {
        "\(payload == .activation ? "act" : "grad")(\(chunk)) \(source)->\(destination) tag \(tag)"
    }
}

/// One instruction of a rank's lowered program: what the runtime executes, in order.
/// Receives and sends are nonblocking; waits block until the message is matched and complete.
public enum Instruction: Hashable, Sendable {
    case postReceive(Transfer)
    case waitReceive(Transfer)
    case compute(Action)
    case postSend(Transfer)
    case waitSend(Transfer)

    public var transfer: Transfer? {
        switch self {
        case .postReceive(let t), .waitReceive(let t), .postSend(let t), .waitSend(let t): t
        case .compute: nil
        }
    }
}

/// A schedule with its communication made explicit: per rank, an ordered instruction list.
public struct LoweredSchedule: Hashable, Sendable {
    public let schedule: Schedule
    /// How many computes ahead a receive is posted (1: during the previous compute).
    public let receiveLookahead: Int
    /// [ranks][instructions]
    public let programs: [[Instruction]]
}

extension Schedule {
    /// The messages an action needs before it can run on `rank`: the forward's activation first,
    /// then the backward's gradient. Consecutive stages on one rank (DualPipeV's turn) exchange nothing.
    public func receives(of action: Action, on rank: Int) -> [Transfer] {
        var result: [Transfer] = []
        if let f = action.forwardChunk, f.stage > 0 {
            let source = configuration.rank(of: Chunk(stage: f.stage - 1, microBatch: f.microBatch))
            if source != rank { result.append(Transfer(payload: .activation, source: source, destination: rank, chunk: f)) }
        }
        if let b = action.backwardChunk, b.stage < stages - 1 {
            let source = configuration.rank(of: Chunk(stage: b.stage + 1, microBatch: b.microBatch))
            if source != rank { result.append(Transfer(payload: .gradient, source: source, destination: rank, chunk: b)) }
        }
        return result
    }

    /// The messages an action produces on `rank`: the forward's output, then the backward's input gradient.
    public func sends(of action: Action, on rank: Int) -> [Transfer] {
        var result: [Transfer] = []
        if let f = action.forwardChunk, f.stage < stages - 1 {
            let next = Chunk(stage: f.stage + 1, microBatch: f.microBatch)
            let destination = configuration.rank(of: next)
            if destination != rank { result.append(Transfer(payload: .activation, source: rank, destination: destination, chunk: next)) }
        }
        if let b = action.backwardChunk, b.stage > 0 {
            let previous = Chunk(stage: b.stage - 1, microBatch: b.microBatch)
            let destination = configuration.rank(of: previous)
            if destination != rank { result.append(Transfer(payload: .gradient, source: rank, destination: destination, chunk: previous)) }
        }
        return result
    }

    /// Lowers to instructions. Before compute k the rank posts the receives of compute
    /// k + `receiveLookahead` (so they are in flight while it computes), then waits for compute k's
    /// own receives. Sends are posted right after the compute that produces them and waited for
    /// after the next compute, so a transfer overlaps one compute on both sides.
    public func lowered(receiveLookahead: Int = 1) -> LoweredSchedule {
        precondition(receiveLookahead >= 0, "receive lookahead must be >= 0")
        let programs = (0..<ranks).map { rank -> [Instruction] in
            let actions = program[rank]
            let receives = actions.map { self.receives(of: $0, on: rank) }
            let sends = actions.map { self.sends(of: $0, on: rank) }
            var out: [Instruction] = []
            out.reserveCapacity(actions.count * 5)
            for k in 0..<min(receiveLookahead, actions.count) { out += receives[k].map(Instruction.postReceive) }
            for k in actions.indices {
                if k + receiveLookahead < actions.count { out += receives[k + receiveLookahead].map(Instruction.postReceive) }
                out += receives[k].map(Instruction.waitReceive)
                out.append(.compute(actions[k]))
                out += sends[k].map(Instruction.postSend)
                if k >= 1 { out += sends[k - 1].map(Instruction.waitSend) }
            }
            if let last = sends.last { out += last.map(Instruction.waitSend) }
            return out
        }
        return LoweredSchedule(schedule: self, receiveLookahead: receiveLookahead, programs: programs)
    }
}
