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
        let outcome = Dataflow(schedule: self, cost: { _ in 1 }, latency: 0).run()
        if !outcome.finished {
            let stuck = outcome.blocked.enumerated().compactMap { rank, step in step.map { (rank: rank, step: $0) } }
            let what = stuck.map { "rank \($0.rank) step \($0.step) \(program[$0.rank][$0.step])" }.joined(separator: ", ")
            throw failure("inputs produced before use", "no rank can proceed: \(what) wait for inputs that are never produced", marks: stuck)
        }
    }
}

extension LoweredSchedule {
    private struct Key: Hashable { var source, destination, tag: Int }

    /// Checks the communication: every send has exactly one matching receive (same source,
    /// destination and tag, same payload and chunk), every post has one wait after it, and the
    /// ranks, executed with nonblocking posts, receives that wait for the matching send and sends
    /// that wait for the matching receive (the strict MPI reading), all run to the end.
    public func validate() throws {
        try schedule.validate()
        var sends: [Key: Transfer] = [:], receives: [Key: Transfer] = [:]
        for (rank, instructions) in programs.enumerated() {
            var posted = Set<Instruction>()
            for instruction in instructions {
                switch instruction {
                case .postSend(let t), .postReceive(let t):
                    let key = Key(source: t.source, destination: t.destination, tag: t.tag)
                    let isSend: Bool = if case .postSend = instruction { true } else { false }
                    guard (isSend ? t.source : t.destination) == rank else {
                        throw schedule.failure("message endpoints", "rank \(rank) posts \(t) it is not part of", marks: [])
                    }
                    if isSend {
                        guard sends.updateValue(t, forKey: key) == nil else {
                            throw schedule.failure("unique tags", "two sends \(t.source)->\(t.destination) with tag \(t.tag)", marks: [])
                        }
                    } else {
                        guard receives.updateValue(t, forKey: key) == nil else {
                            throw schedule.failure("unique tags", "two receives \(t.source)->\(t.destination) with tag \(t.tag)", marks: [])
                        }
                    }
                    posted.insert(instruction)
                case .waitSend(let t):
                    guard posted.remove(.postSend(t)) != nil else {
                        throw schedule.failure("one wait per post", "rank \(rank) waits for send \(t) it has not posted", marks: [])
                    }
                case .waitReceive(let t):
                    guard posted.remove(.postReceive(t)) != nil else {
                        throw schedule.failure("one wait per post", "rank \(rank) waits for receive \(t) it has not posted", marks: [])
                    }
                case .compute:
                    break
                }
            }
            if let open = posted.first {
                throw schedule.failure("one wait per post", "rank \(rank) never waits for \(open.transfer!)", marks: [])
            }
        }
        for (key, send) in sends where receives[key] != send {
            throw schedule.failure("every send has one matching receive", "\(send) has \(receives[key].map { "a different receive \($0)" } ?? "no receive")", marks: [])
        }
        for (key, receive) in receives where sends[key] == nil {
            throw schedule.failure("every receive has one matching send", "\(receive) is never sent", marks: [])
        }
        try checkDeadlockFree()
    }

    private func checkDeadlockFree() throws {
        var sendPosted = Set<Transfer>(), receivePosted = Set<Transfer>()
        var pc = [Int](repeating: 0, count: programs.count)
        var progressed = true
        while progressed {
            progressed = false
            for rank in programs.indices {
                run: while pc[rank] < programs[rank].count {
                    switch programs[rank][pc[rank]] {
                    case .postSend(let t): sendPosted.insert(t)
                    case .postReceive(let t): receivePosted.insert(t)
                    case .waitReceive(let t): if !sendPosted.contains(t) { break run }
                    case .waitSend(let t): if !receivePosted.contains(t) { break run }
                    case .compute: break
                    }
                    pc[rank] += 1
                    progressed = true
                }
            }
        }
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
