/// Executes a schedule's compute actions in dependency order, each rank in program order, and
/// times them. Shared by the validator (is every input produced before it is used?) and the
/// simulator (when does each action run?).
struct Dataflow {
    struct Outcome {
        /// [ranks][steps] start and end time of each action.
        var start: [[Double]]
        var end: [[Double]]
        /// Per rank, the step it could not run (nil when the rank finished).
        var blocked: [Int?]
        var finished: Bool { blocked.allSatisfy { $0 == nil } }
    }

    let schedule: Schedule
    let cost: (Action) -> Double
    /// Each link's latency and what a message holds it for.
    let links: Links
    /// How FB pairs meet their messages, and what a pair's parts cost alone (for `.interleaved`).
    var pairs: PairTiming = .atomic
    var parts: (Action) -> PairParts = { _ in .even }

    func run() -> Outcome {
        var state = State(self)
        // Sweep the ranks until none can run its next action: each runs as far as its inputs allow.
        var progressed = true
        while progressed {
            progressed = false
            for rank in 0..<schedule.ranks {
                while state.runNext(on: rank) { progressed = true }
            }
        }
        let blocked = (0..<schedule.ranks).map { state.pc[$0] < schedule.program[$0].count ? state.pc[$0] : nil }
        return Outcome(start: state.start, end: state.end, blocked: blocked)
    }

    /// What the execution has reached: per rank its next action and clock, per chunk when its
    /// outputs were made and when they reached the rank that consumes them, per link when it is free.
    private struct State {
        let flow: Dataflow
        let config: ScheduleConfiguration
        /// [stage * M + micro-batch]: when the forward output / input gradient became available.
        var forwardDone: [Double?]
        var backwardDone: [Double?]
        /// [stage * M + micro-batch]: when the same reached the rank that consumes it on another rank.
        var forwardArrived: [Double?]
        var backwardArrived: [Double?]
        /// [from * ranks + to]: when the link from one rank to another is free for the next message.
        var linkFree: [Double]
        var start: [[Double]]
        var end: [[Double]]
        /// Per rank: the index of its next action, and when it is free.
        var pc: [Int]
        var clock: [Double]

        init(_ flow: Dataflow) {
            let schedule = flow.schedule, n = schedule.ranks, chunks = schedule.stages * schedule.microBatches
            self.flow = flow
            config = schedule.configuration
            forwardDone = Array(repeating: nil, count: chunks)
            backwardDone = forwardDone; forwardArrived = forwardDone; backwardArrived = forwardDone
            linkFree = Array(repeating: -.infinity, count: n * n)
            start = schedule.program.map { Array(repeating: 0, count: $0.count) }
            end = start
            pc = Array(repeating: 0, count: n)
            clock = Array(repeating: 0, count: n)
        }

        func index(_ c: Chunk) -> Int? { config.contains(c) ? c.stage * flow.schedule.microBatches + c.microBatch : nil }

        /// When `rank` may use the output of `producer`, or nil if it is not produced yet. Each
        /// output has one consumer on another rank: the next stage's F, the previous stage's B.
        func arrival(_ done: [Double?], _ arrived: [Double?], _ producer: Chunk, on rank: Int) -> Double? {
            guard let i = index(producer) else { return nil }
            return config.rank(of: producer) == rank ? done[i] : arrived[i]
        }

        /// When `action` could start on `rank` but for the output gradient its backward consumes,
        /// and when that gradient is here (-infinity: none to wait for); nil while an input is not
        /// produced yet. Apart, so that an interleaved FB pair can start before its gradient.
        func inputTimes(_ action: Action, on rank: Int) -> (ready: Double, gradient: Double)? {
            var ready = clock[rank], gradient = -Double.infinity
            if let f = action.forwardChunk {
                guard index(f) != nil else { return nil }
                if f.stage > 0 {
                    guard let t = arrival(forwardDone, forwardArrived, Chunk(stage: f.stage - 1, microBatch: f.microBatch), on: rank) else { return nil }
                    ready = max(ready, t)
                }
            }
            if let b = action.backwardChunk {
                guard let own = arrival(forwardDone, forwardArrived, b, on: rank) else { return nil }
                ready = max(ready, own)
                if b.stage < flow.schedule.stages - 1 {
                    guard let t = arrival(backwardDone, backwardArrived, Chunk(stage: b.stage + 1, microBatch: b.microBatch), on: rank) else { return nil }
                    gradient = t
                }
            }
            if case .backwardWeight(let c) = action {
                guard let t = arrival(backwardDone, backwardArrived, c, on: rank) else { return nil }
                ready = max(ready, t)
            }
            return (ready, gradient)
        }

        /// Runs `rank`'s next action if its inputs are here; false when the rank is done or waits.
        mutating func runNext(on rank: Int) -> Bool {
            let actions = flow.schedule.program[rank]
            guard pc[rank] < actions.count, let (ready, gradient) = inputTimes(actions[pc[rank]], on: rank) else { return false }
            let action = actions[pc[rank]]
            // A BW sends its input gradient before its W as a pair does, but never starts before
            // that gradient is here: it has no forward to run meanwhile.
            let timing: PairTiming = switch action.op {
            case .FB: flow.pairs
            case .BW where flow.pairs != .atomic: .interleaved(lateGradient: false)
            default: .atomic
            }
            let times = PairTimes(timing, ready: ready, gradient: gradient, cost: flow.cost(action),
                                  parts: timing == .atomic ? .even : flow.parts(action))
            start[rank][pc[rank]] = times.start
            end[rank][pc[rank]] = times.end
            clock[rank] = times.end
            send(outputsOf: action, times, from: rank)
            pc[rank] += 1
            return true
        }

        /// Records the action's outputs and sends each on as it is made, the earlier one first.
        mutating func send(outputsOf action: Action, _ times: PairTimes, from rank: Int) {
            var outputs: [(time: Double, forward: Bool, index: Int, consumer: Chunk)] = []
            if let f = action.forwardChunk, let i = index(f) {
                forwardDone[i] = times.forwardOutput
                let next = Chunk(stage: f.stage + 1, microBatch: f.microBatch)
                if index(next) != nil { outputs.append((times.forwardOutput, true, i, next)) }
            }
            if let b = action.backwardChunk, let i = index(b) {
                backwardDone[i] = times.inputGradient
                let previous = Chunk(stage: b.stage - 1, microBatch: b.microBatch)
                if index(previous) != nil { outputs.append((times.inputGradient, false, i, previous)) }
            }
            for output in outputs.sorted(by: { $0.time < $1.time }) {
                let arrived = deliver(sent: output.time, from: rank, to: output.consumer)
                if output.forward { forwardArrived[output.index] = arrived } else { backwardArrived[output.index] = arrived }
            }
        }

        /// When a message sent at `sent` from one rank reaches another: it waits for the link to
        /// finish the messages sent before it, holds it for the link's transfer, and lands the
        /// link's latency after it started to cross.
        mutating func deliver(sent: Double, from: Int, to consumer: Chunk) -> Double {
            let to = config.rank(of: consumer), n = flow.schedule.ranks
            guard to != from else { return sent }
            let crossing = max(sent, linkFree[from * n + to])
            linkFree[from * n + to] = crossing + flow.links.transfer(from: from, to: to)
            return crossing + flow.links.latency(from: from, to: to)
        }
    }
}
