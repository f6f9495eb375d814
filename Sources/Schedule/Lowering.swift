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
    /// 2 * (lap * M + micro-batch) + (gradient ? 1 : 0). Unique per (source, destination) pair: in
    /// one lap around the ranks, at most one activation and one gradient of a micro-batch go each
    /// way between two ranks (the validator checks it).
    public var tag: Int

    /// `lap`: the pass around the ranks `chunk` is on, where a micro-batch passes them more than once
    /// (an interleaved kind's stage s is on lap s / N); each lap's tags follow the last one's 2M.
    public init(payload: Payload, source: Int, destination: Int, chunk: Chunk, lap: Int = 0, microBatches: Int = 0) {
        self.payload = payload
        self.source = source
        self.destination = destination
        self.chunk = chunk
        self.tag = 2 * (lap * microBatches + chunk.microBatch) + (payload == .gradient ? 1 : 0)
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
    /// [ranks][instructions]
    public let programs: [[Instruction]]
    /// The most messages in flight per channel (source, destination, payload) and direction: the
    /// receive buffers a rank may hold for one peer's activations (or gradients), and the sends.
    public let channelDepth: Int

    public init(schedule: Schedule, programs: [[Instruction]], channelDepth: Int = 1) {
        self.schedule = schedule
        self.programs = programs
        self.channelDepth = channelDepth
    }
}

extension Schedule {
    /// The messages an action needs before it can run on `rank`: the forward's activation first,
    /// then the backward's gradient. Consecutive stages on one rank (DualPipeV's turn) exchange nothing.
    public func receives(of action: Action, on rank: Int) -> [Transfer] {
        var result: [Transfer] = []
        if let f = action.forwardChunk, f.stage > 0 {
            let source = configuration.rank(of: Chunk(stage: f.stage - 1, microBatch: f.microBatch))
            if source != rank { result.append(transfer(.activation, source, rank, f)) }
        }
        if let b = action.backwardChunk, b.stage < stages - 1 {
            let source = configuration.rank(of: Chunk(stage: b.stage + 1, microBatch: b.microBatch))
            if source != rank { result.append(transfer(.gradient, source, rank, b)) }
        }
        return result
    }

    /// The messages an action produces on `rank`: the forward's output, then the backward's input gradient.
    public func sends(of action: Action, on rank: Int) -> [Transfer] {
        var result: [Transfer] = []
        if let f = action.forwardChunk, f.stage < stages - 1 {
            let next = Chunk(stage: f.stage + 1, microBatch: f.microBatch)
            let destination = configuration.rank(of: next)
            if destination != rank { result.append(transfer(.activation, rank, destination, next)) }
        }
        if let b = action.backwardChunk, b.stage > 0 {
            let previous = Chunk(stage: b.stage - 1, microBatch: b.microBatch)
            let destination = configuration.rank(of: previous)
            if destination != rank { result.append(transfer(.gradient, rank, destination, previous)) }
        }
        return result
    }

    private func transfer(_ payload: Payload, _ source: Int, _ destination: Int, _ chunk: Chunk) -> Transfer {
        Transfer(payload: payload, source: source, destination: destination, chunk: chunk,
                 lap: configuration.lap(of: chunk.stage), microBatches: microBatches)
    }

    /// Lowers with the shallowest channels that run: one message in flight per channel wherever
    /// that is deadlock-free under MPI's strict reading (every schedule generated here but
    /// Interleaved 1F1B's rounds of more than N micro-batches and Interleaved ZB from 5 ranks
    /// up), deeper only where it is not, so a rank holds as few message buffers as its schedule
    /// allows. Deeper channels only relax waits: after depths 2 to 8 the search halves the
    /// depths up to the one that posts every receive at the start and waits for every send at
    /// the end. A schedule that deadlocks even then (its data depend on each other in a cycle) is
    /// lowered at depth 1 for `validate()` to show.
    ///
    /// Looped BFS takes M a channel: a rank sends a whole loop of M outputs to a neighbour still
    /// busy with its own loop, and on the shallowest channels that run (2) each send past the
    /// second waited for the neighbour, which made its step about 10% longer than its simulation
    /// (its outputs leaving as they come) on 2 ranks; M are a loop's activations, which the
    /// schedule keeps alive anyway.
    public func lowered() -> LoweredSchedule {
        if kind == .loopedBFS {
            let loop = lowered(channelDepth: min(max(microBatches, 1), maximumChannelDepth))
            if loop.runsToTheEnd { return loop }
        }
        let shallowest = lowered(channelDepth: 1)
        // Chunks outside the configuration (a hand-written schedule) are `validate()`'s to report.
        guard program.joined().allSatisfy({ $0.chunks.allSatisfy(configuration.contains) }),
              !shallowest.runsToTheEnd else { return shallowest }
        // The schedules here need 2 to 5 where 1 deadlocks (Interleaved ZB about N / 4 + 1): try
        // the shallow depths one by one.
        let most = maximumChannelDepth
        var deadlocks = 1 // the deepest depth known to deadlock
        for depth in stride(from: 2, through: min(8, most), by: 1) {
            let candidate = lowered(channelDepth: depth)
            if candidate.runsToTheEnd { return candidate }
            deadlocks = depth
        }
        guard most > deadlocks else { return shallowest }
        var runs = lowered(channelDepth: most)
        guard runs.runsToTheEnd else { return shallowest }
        while runs.channelDepth - deadlocks > 1 {
            let candidate = lowered(channelDepth: (deadlocks + runs.channelDepth) / 2)
            if candidate.runsToTheEnd { runs = candidate } else { deadlocks = candidate.channelDepth }
        }
        return runs
    }

    /// The most messages any channel of any rank carries in a step: at that depth no receive
    /// waits to be posted and no send is waited for before the end.
    var maximumChannelDepth: Int {
        var most = 1
        for rank in 0..<ranks {
            var counts: [Int: Int] = [:]
            for action in program[rank] {
                for t in sends(of: action, on: rank) {
                    counts[2 * t.destination + (t.payload == .gradient ? 1 : 0), default: 0] += 1
                }
            }
            most = max(most, counts.values.max() ?? 1)
        }
        return most
    }

    /// Lowers to instructions, with up to `channelDepth` receives and as many sends in flight per
    /// channel (source, destination, payload). Receives are posted as early as that allows: each
    /// channel's first `channelDepth` at the start, each next one as soon as the oldest one has
    /// been waited for, so it is in flight during the computes before it is needed. Sends are
    /// posted right after the compute that produces them; a send is waited for just before the
    /// send `channelDepth` later on its channel is posted, or at the end.
    public func lowered(channelDepth depth: Int) -> LoweredSchedule {
        precondition(depth >= 1, "a channel holds at least one message")
        // A rank's channels, numbered 2 * peer + (gradient ? 1 : 0), separately for each direction.
        func channel(_ peer: Int, _ t: Transfer) -> Int { 2 * peer + (t.payload == .gradient ? 1 : 0) }
        let programs = (0..<ranks).map { rank -> [Instruction] in
            let actions = program[rank]
            let receives = actions.map { self.receives(of: $0, on: rank) }
            // [channel] the receives in the order this rank consumes them, and the next to post.
            var queues = [[Transfer]](repeating: [], count: 2 * ranks)
            for t in receives.joined() { queues[channel(t.source, t)].append(t) }
            var next = queues.map { min(depth, $0.count) }
            // [channel] sends posted and not yet waited for, oldest first.
            var inFlight = [[Transfer]](repeating: [], count: 2 * ranks)
            var out: [Instruction] = []
            out.reserveCapacity(actions.count * 5)
            for queue in queues { out += queue.prefix(depth).map(Instruction.postReceive) }
            for (k, action) in actions.enumerated() {
                for t in receives[k] {
                    out.append(.waitReceive(t))
                    let c = channel(t.source, t)
                    if next[c] < queues[c].count {
                        out.append(.postReceive(queues[c][next[c]]))
                        next[c] += 1
                    }
                }
                out.append(.compute(action))
                for t in sends(of: action, on: rank) {
                    let c = channel(t.destination, t)
                    if inFlight[c].count == depth { out.append(.waitSend(inFlight[c].removeFirst())) }
                    out.append(.postSend(t))
                    inFlight[c].append(t)
                }
            }
            out += inFlight.joined().map(Instruction.waitSend)
            return out
        }
        return LoweredSchedule(schedule: self, programs: programs, channelDepth: depth)
    }
}
