/// A broken rule, with the values involved and the step-by-rank grid around the failure.
public struct ScheduleValidationError: Error, CustomStringConvertible {
    public let rule: String
    public let detail: String
    public let grid: String

    public var description: String { "schedule violates \(rule): \(detail)\n\(grid)" }
}

extension Schedule {
    func failure(_ rule: String, _ detail: String, marks: [(rank: Int, step: Int)]) -> ScheduleValidationError {
        let cells = program.map { $0.map(\.description) }
        return ScheduleValidationError(rule: rule, detail: detail, grid: Grid(cells: cells, marks: marks).render())
    }

    /// Checks the compute program: every action on the rank that holds its chunk; every (stage,
    /// micro-batch) gets exactly one forward, one backward and, when the backward is split, one W;
    /// and each input is produced before it is used (F(s,m) after F(s-1,m); the backward of (s,m)
    /// after F(s,m) and after the backward of (s+1,m); W after its B), found by executing the
    /// program in dependency order.
    public func validate() throws {
        guard program.count == ranks else {
            throw ScheduleError.malformed("\(program.count) rank programs for \(ranks) ranks")
        }
        let m = microBatches
        var forwards = [Int](repeating: 0, count: stages * m)
        var backwards = forwards, splits = forwards, weights = forwards
        for (rank, actions) in program.enumerated() {
            for (step, action) in actions.enumerated() {
                for c in action.chunks {
                    guard configuration.contains(c), configuration.rank(of: c) == rank else {
                        let owner = configuration.contains(c) ? "rank \(configuration.rank(of: c))" : "no rank (outside \(stages) stages x \(m) micro-batches)"
                        throw failure("stage ownership", "\(action) on rank \(rank) at step \(step), but chunk \(c) belongs to \(owner)", marks: [(rank, step)])
                    }
                }
                if let f = action.forwardChunk { forwards[f.stage * m + f.microBatch] += 1 }
                if let b = action.backwardChunk { backwards[b.stage * m + b.microBatch] += 1 }
                if case .backwardInput(let c) = action { splits[c.stage * m + c.microBatch] += 1 }
                if case .backwardWeight(let c) = action { weights[c.stage * m + c.microBatch] += 1 }
            }
        }
        for stage in 0..<stages {
            for mb in 0..<m {
                let i = stage * m + mb, c = Chunk(stage: stage, microBatch: mb)
                let expectedW = splits[i] > 0 ? 1 : 0
                if forwards[i] != 1 || backwards[i] != 1 || weights[i] != expectedW {
                    let rank = configuration.rank(of: c)
                    let steps = program[rank].indices.filter { program[rank][$0].chunks.contains(c) }
                    throw failure("exactly one F, one backward and one W per split backward",
                                  "chunk \(c) has \(forwards[i]) F, \(backwards[i]) backward (\(splits[i]) split), \(weights[i]) W",
                                  marks: steps.map { (rank, $0) })
                }
            }
        }
        let outcome = Dataflow(schedule: self, cost: { _ in 1 }, links: Links(ranks: ranks, latency: 0)).run()
        if !outcome.finished {
            let stuck = outcome.blocked.enumerated().compactMap { rank, step in step.map { (rank: rank, step: $0) } }
            let what = stuck.map { "rank \($0.rank) step \($0.step) \(program[$0.rank][$0.step])" }.joined(separator: ", ")
            throw failure("inputs produced before use", "no rank can proceed; blocked for inputs that are never produced: \(what)", marks: stuck)
        }
    }
}

extension LoweredSchedule {
    /// Each transfer has its own slot: a chunk receives at most one activation and one gradient.
    private func slot(_ t: Transfer) -> Int {
        2 * (t.chunk.stage * schedule.microBatches + t.chunk.microBatch) + (t.payload == .gradient ? 1 : 0)
    }

    /// Checks the communication: each rank computes exactly its program's actions in order, each
    /// after waiting for every message it consumes, and posts each send only after the compute that
    /// produces it; every send has exactly one matching receive (same source,
    /// destination and tag, same payload and chunk), tags are unique between two ranks, every post
    /// has one wait after it on the same rank, and the ranks, executed with nonblocking posts,
    /// receives that wait for the matching send and sends that wait for the matching receive (the
    /// strict MPI reading), all run to the end.
    public func validate() throws {
        try schedule.validate()
        let slots = 2 * schedule.stages * schedule.microBatches
        var sent = [Transfer?](repeating: nil, count: slots), received = sent
        var tags = Set<Int>()
        // Posted and not yet waited for. A slot is posted once, so one array serves all ranks.
        var openSend = [Bool](repeating: false, count: slots), openReceive = openSend
        for (rank, instructions) in programs.enumerated() {
            var open = 0
            for instruction in instructions {
                switch instruction {
                case .postSend(let t):
                    guard t.source == rank, schedule.configuration.contains(t.chunk) else {
                        throw schedule.failure("message endpoints", "rank \(rank) posts the send \(t)", marks: [])
                    }
                    guard sent[slot(t)] == nil else {
                        throw schedule.failure("one send per message", "\(t) is sent twice", marks: [])
                    }
                    sent[slot(t)] = t
                    openSend[slot(t)] = true
                    open += 1
                    let n = schedule.ranks
                    let tagsPerLink = 2 * schedule.microBatches * schedule.stagesPerRank
                    guard tags.insert((t.source * n + t.destination) * tagsPerLink + t.tag).inserted else {
                        throw schedule.failure("unique tags", "two messages \(t.source)->\(t.destination) with tag \(t.tag)", marks: [])
                    }
                case .postReceive(let t):
                    guard t.destination == rank, schedule.configuration.contains(t.chunk) else {
                        throw schedule.failure("message endpoints", "rank \(rank) posts the receive \(t)", marks: [])
                    }
                    guard received[slot(t)] == nil else {
                        throw schedule.failure("one receive per message", "\(t) is received twice", marks: [])
                    }
                    received[slot(t)] = t
                    openReceive[slot(t)] = true
                    open += 1
                case .waitSend(let t):
                    guard openSend[slot(t)], sent[slot(t)] == t else {
                        throw schedule.failure("one wait per post", "rank \(rank) waits for the send \(t) without an open post", marks: [])
                    }
                    openSend[slot(t)] = false
                    open -= 1
                case .waitReceive(let t):
                    guard openReceive[slot(t)], received[slot(t)] == t else {
                        throw schedule.failure("one wait per post", "rank \(rank) waits for the receive \(t) without an open post", marks: [])
                    }
                    openReceive[slot(t)] = false
                    open -= 1
                case .compute:
                    break
                }
            }
            if open != 0, let open = openSend.firstIndex(of: true) ?? openReceive.firstIndex(of: true) {
                throw schedule.failure("one wait per post", "rank \(rank) never waits for \((sent[open] ?? received[open])!)", marks: [])
            }
        }
        for i in 0..<slots where sent[i] != received[i] {
            if let send = sent[i] {
                throw schedule.failure("every send has one matching receive", "\(send) has \(received[i].map { "a different receive \($0)" } ?? "no receive")", marks: [])
            }
            throw schedule.failure("every receive has one matching send", "\(received[i]!) is never sent", marks: [])
        }
        try checkComputeOrder()
        try checkDeadlockFree()
    }

    /// Each rank computes exactly its program's actions in order, each after waiting for every
    /// message it consumes, and posts each send only after the compute that produces it.
    private func checkComputeOrder() throws {
        // Receives waited for (their data is here) and sends computed (their data exists).
        let slots = 2 * schedule.stages * schedule.microBatches
        var arrived = [Bool](repeating: false, count: slots), produced = arrived
        for (rank, instructions) in programs.enumerated() {
            let program = schedule.program[rank]
            var computed = 0
            for instruction in instructions {
                switch instruction {
                case .waitReceive(let t):
                    arrived[slot(t)] = true
                case .postSend(let t):
                    guard produced[slot(t)] else {
                        throw schedule.failure("sends after the compute that produces them",
                                               "rank \(rank) posts \(t) before computing it", marks: [(rank, computed)])
                    }
                case .compute(let action):
                    guard computed < program.count, program[computed] == action else {
                        throw schedule.failure("computes follow the program", "rank \(rank) computes \(action) as its step \(computed)",
                                               marks: [(rank, computed)])
                    }
                    if let missing = schedule.receives(of: action, on: rank).first(where: { !arrived[slot($0)] }) {
                        throw schedule.failure("receives waited for before use",
                                               "rank \(rank) computes \(action) before waiting for \(missing)", marks: [(rank, computed)])
                    }
                    for t in schedule.sends(of: action, on: rank) { produced[slot(t)] = true }
                    computed += 1
                case .postReceive, .waitSend:
                    break
                }
            }
            guard computed == program.count else {
                throw schedule.failure("computes follow the program",
                                       "rank \(rank) computes \(computed) of its \(program.count) actions", marks: [(rank, computed)])
            }
        }
    }

    /// Whether every rank runs to the end when each runs as far as it can, posts never blocking,
    /// a receive's wait completing once the matching send is posted and a send's once the
    /// matching receive is (so no reliance on MPI buffering a message).
    var runsToTheEnd: Bool {
        let pc = furthestInstructions()
        return programs.indices.allSatisfy { pc[$0] == programs[$0].count }
    }

    /// [rank] the first instruction each rank cannot get past (its count where it finishes). A
    /// blocked rank is set aside under the message it waits for and runs on when that message's
    /// other side is posted, so each instruction is visited once.
    private func furthestInstructions() -> [Int] {
        let slots = 2 * schedule.stages * schedule.microBatches
        var sendPosted = [Bool](repeating: false, count: slots), receivePosted = sendPosted
        var pc = [Int](repeating: 0, count: programs.count)
        // [slot] the rank waiting for the send (or the receive) of that message to be posted, -1
        // for none; a second waiter (only in a malformed program) queues in `alsoAwaiting`.
        var awaitingSend = [Int](repeating: -1, count: slots), awaitingReceive = awaitingSend
        var alsoAwaiting: [Int: [Int]] = [:] // 2 * slot + (waits for the receive ? 1 : 0)
        var runnable = Array(programs.indices.reversed())
        func wake(_ awaiting: inout [Int], _ slot: Int, _ key: Int) {
            guard awaiting[slot] >= 0 else { return }
            runnable.append(awaiting[slot])
            awaiting[slot] = -1
            runnable += alsoAwaiting.removeValue(forKey: key) ?? []
        }
        func park(_ rank: Int, _ awaiting: inout [Int], _ slot: Int, _ key: Int) {
            if awaiting[slot] < 0 { awaiting[slot] = rank } else { alsoAwaiting[key, default: []].append(rank) }
        }
        while let rank = runnable.popLast() {
            let program = programs[rank]
            var k = pc[rank]
            run: while k < program.count {
                switch program[k] {
                case .postSend(let t):
                    let i = slot(t)
                    sendPosted[i] = true
                    wake(&awaitingSend, i, 2 * i)
                case .postReceive(let t):
                    let i = slot(t)
                    receivePosted[i] = true
                    wake(&awaitingReceive, i, 2 * i + 1)
                case .waitReceive(let t):
                    let i = slot(t)
                    if !sendPosted[i] { park(rank, &awaitingSend, i, 2 * i); break run }
                case .waitSend(let t):
                    let i = slot(t)
                    if !receivePosted[i] { park(rank, &awaitingReceive, i, 2 * i + 1); break run }
                case .compute: break
                }
                k += 1
            }
            pc[rank] = k
        }
        return pc
    }

    private func checkDeadlockFree() throws {
        let pc = furthestInstructions()
        let blocked = programs.indices.filter { pc[$0] < programs[$0].count }
        guard !blocked.isEmpty else { return }
        var marks: [(rank: Int, step: Int)] = []
        var waits: [String] = []
        for rank in blocked {
            let step = programs[rank][..<pc[rank]].filter { if case .compute = $0 { true } else { false } }.count
            marks.append((rank, step))
            switch programs[rank][pc[rank]] {
            case .waitReceive(let t): waits.append("rank \(rank) waits to receive \(t)")
            case .waitSend(let t): waits.append("rank \(rank) waits for the receive of \(t)")
            default: break
            }
        }
        throw schedule.failure("deadlock freedom", "deadlock before the marked steps: " + waits.joined(separator: "; "), marks: marks)
    }
}
