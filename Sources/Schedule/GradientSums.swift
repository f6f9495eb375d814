/// What summing one stage's gradients over the two ranks that hold its copies takes, in the
/// simulation's time unit: DualPipe keeps two copies of every stage (pipeline ranks pp and PP-1-pp
/// both hold stages pp and PP-1-pp) and sums each pair of copies every step, where the kinds with
/// one copy of each stage have nothing to sum. Two ranks on one node sum through shared memory;
/// across nodes the gradients cross the network, and the sum can cost many times more.
public struct GradientSumCosts: Hashable, Sendable {
    public var inside: Double
    public var between: Double

    public init(inside: Double, between: Double? = nil) {
        self.inside = inside
        self.between = between ?? inside
    }

    /// Every cost finite and >= 0; the error names the value and the rule.
    public func validate() throws(ScheduleError) {
        for (name, value) in [("gradient sum", inside), ("gradient sum between nodes", between)] where !(value.isFinite && value >= 0) {
            throw .invalidCosts("\(name) = \(value): every cost must be a finite number >= 0")
        }
    }
}

/// A simulated step to its end: the schedule, then the sums of the stages held by more than one
/// rank, timed as the runtime runs them (`StageGradientSums`). A stage whose copies sit on two
/// nodes and are final on both ranks before either rank's last action is summed during the
/// schedule, from the moment both are final, while the ranks compute the rest; every other stage
/// is summed after the schedule, in stage order, each sum starting once every rank holding a copy
/// is free.
public struct WholeStep: Hashable, Sendable {
    /// One stage's sum over the ranks holding its copies.
    public struct StageSum: Hashable, Sendable {
        public let stage: Int
        /// The pipeline ranks holding a copy, lowest first.
        public let ranks: [Int]
        public let start: Double
        public let end: Double
        /// Whether it ran during the schedule.
        public let early: Bool
    }

    /// The stages summed, in stage order.
    public let sums: [StageSum]
    /// [ranks] when each rank is done: its last action, or its last sum if that ends later.
    public let end: [Double]
    /// The slowest rank's end.
    public var makespan: Double { end.max() ?? 0 }

    /// [ranks] each rank's sums as spans of its timeline, for the picture.
    public func spans(ranks: Int) -> [[StepSpan]] {
        var spans = [[StepSpan]](repeating: [], count: ranks)
        for sum in sums {
            for r in sum.ranks { spans[r].append(StepSpan(name: "sum \(sum.stage)", start: sum.start, end: sum.end, alongside: sum.early)) }
        }
        return spans
    }
}

/// A span of a rank's step that is no action of the schedule (a gradient sum, AdamW, ...): after
/// the rank's actions, or `alongside` them (a sum in flight while the rank computes).
public struct StepSpan: Hashable, Sendable {
    public var name: String
    public var start: Double
    public var end: Double
    public var alongside: Bool

    public init(name: String, start: Double, end: Double, alongside: Bool = false) {
        (self.name, self.start, self.end, self.alongside) = (name, start, end, alongside)
    }
}

extension Simulation {
    /// The step with its gradient sums at `costs`: a sum between two ranks on different nodes of
    /// `placement` costs `costs.between`, any other `costs.inside` (no placement: one node). The
    /// sums between the same ranks take turns on their link, an early one first.
    public func wholeStep(_ costs: GradientSumCosts) -> WholeStep {
        let ranks = schedule.ranks
        // [rank][stage]: the rank's last action on the stage, and when it ends.
        let lastTouch = timeline.map { actions in
            var last: [Int: (index: Int, end: Double)] = [:]
            for (k, timed) in actions.enumerated() { for chunk in timed.action.chunks { last[chunk.stage] = (k, timed.end) } }
            return last
        }
        typealias Planned = (stage: Int, copies: [Int], cost: Double, early: Bool)
        var planned: [Planned] = []
        for stage in 0..<schedule.stages {
            let copies = (0..<ranks).filter { schedule.stagesHeld(by: $0).contains(stage) }
            guard copies.count > 1 else { continue }
            let acrossNodes = placement.map { p in Set(copies.map(p.node(of:))).count > 1 } ?? false
            // The runtime sums early only a pair across nodes (on one node no compute hides the copy).
            let early = acrossNodes && copies.count == 2 && copies.allSatisfy { r in
                lastTouch[r][stage].map { $0.index < timeline[r].count - 1 } ?? false
            }
            planned.append((stage, copies, acrossNodes ? costs.between : costs.inside, early))
        }
        var clock = timeline.map { $0.last?.end ?? 0 }
        var end = clock
        var linkFree: [[Int]: Double] = [:]
        var sums: [WholeStep.StageSum] = []
        func run(_ sum: Planned, ready: Double) {
            let start = max(ready, linkFree[sum.copies] ?? -.infinity), done = start + sum.cost
            linkFree[sum.copies] = done
            for r in sum.copies {
                if !sum.early { clock[r] = done }
                end[r] = max(end[r], done)
            }
            sums.append(WholeStep.StageSum(stage: sum.stage, ranks: sum.copies, start: start, end: done, early: sum.early))
        }
        // The early sums, from when both copies are final; then the rest after the schedule, in stage order.
        let final = { (sum: Planned) in sum.copies.map { lastTouch[$0][sum.stage]!.end }.max()! }
        for sum in planned.filter(\.early).sorted(by: { final($0) < final($1) }) { run(sum, ready: final(sum)) }
        for sum in planned where !sum.early { run(sum, ready: sum.copies.map { clock[$0] }.max()!) }
        return WholeStep(sums: sums.sorted { $0.stage < $1.stage }, end: end)
    }
}
