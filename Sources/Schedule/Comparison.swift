/// The bubble formulas of the DualPipe README table, in our vocabulary (their B is our BW, their
/// F&B our FB), with PP the number of stages; and Interleaved 1F1B's from the Megatron-LM paper,
/// (N-1)(F+B) of one stage on N = PP/V ranks; Interleaved ZB's, ZB1P's on those N ranks; and ZB-V's at equal costs, where its only idle time
/// is the first forward's way to the last rank. `v`, the stages a rank holds, matters only to
/// the looped kinds (nil: their default, 2).
public enum BubbleFormula {
    /// The README's bubble for `kind` with `stages` pipeline stages (GPipe shares 1F1B's).
    public static func readme(_ kind: ScheduleKind, stages pp: Int, stagesPerRank v: Int? = nil, costs c: Costs) -> Double {
        let p = Double(pp)
        return switch kind {
        case .oneFOneB, .gpipe: (p - 1) * (c.forward + c.backward)
        case .zb1p: (p - 1) * (c.forward + c.backward - 2 * c.backwardWeight)
        case .dualpipe, .dualpipev: (p / 2 - 1) * (c.forwardBackward + c.backward - 3 * c.backwardWeight)
        case .interleaved1F1B, .loopedBFS: (p / Double(v ?? 2) - 1) * (c.forward + c.backward)
        case .interleavedZB: (p / Double(v ?? 2) - 1) * (c.forward + c.backward - 2 * c.backwardWeight)
        // NaN: no closed formula for other costs (the critical path changes with them).
        case .zbv: c.forward == c.backwardInput && c.backwardInput == c.backwardWeight ? (p / 2 - 1) * c.forward : .nan
        }
    }

    /// What the formula assumes of the costs (in the README's letters: B is the full backward,
    /// F&B the overlapped pair). Costs that break it make the formula negative (ZB-V's NaN): it is
    /// then no bubble.
    public static func assumption(_ kind: ScheduleKind) -> String? {
        switch kind {
        case .oneFOneB, .gpipe, .interleaved1F1B, .loopedBFS: nil
        case .zb1p, .interleavedZB: "F+B >= 2W"
        case .zbv: "F = B = W"
        case .dualpipe, .dualpipev: "F&B+B >= 3W"
        }
    }

    /// The formula's value for a report: the number, or "n/a" and why when the costs break its
    /// assumption (a negative bubble means nothing).
    public static func shown(_ value: Double, _ kind: ScheduleKind) -> String {
        guard value < 0 || value.isNaN, let assumption = assumption(kind) else { return fmt(value) }
        return "n/a (costs break \(assumption))"
    }

    /// Where the formula comes from: DeepSeek's DualPipe README; for Interleaved 1F1B the
    /// Megatron-LM paper; for ZB-V the equal costs it is built for (neither has a row in the
    /// README's table).
    public static func source(_ kind: ScheduleKind) -> String {
        switch kind {
        case .interleaved1F1B: "Megatron-LM paper"
        case .interleavedZB: "ZB1P"
        case .loopedBFS: "BFS paper"
        case .zbv: "equal-cost"
        case .oneFOneB, .gpipe, .zb1p, .dualpipe, .dualpipev: "README"
        }
    }

    /// What `simulate --compare` says under its table of a kind that is not in the README's.
    public static func note(_ kind: ScheduleKind, stagesPerRank v: Int? = nil) -> String? {
        switch kind {
        case .interleaved1F1B: "not in the README's table; its formula is the \(source(kind))'s, (N-1)(F+B) on N = PP/\(v ?? 2) ranks"
        case .interleavedZB: "not in the README's table; its formula is ZB1P's, (N-1)(F+B-2W), on N = PP/\(v ?? 2) ranks"
        case .zbv: "not in the README's table; at F = B = W, the costs it is built for, its bubble is the first forward's way to the last rank, (PP/2-1)F, which the Zero Bubble paper counts as none"
        case .loopedBFS: "not in the README's table; its formula is GPipe's on N = PP/\(v ?? 2) ranks, (N-1)(F+B), which holds for M >= N (with fewer micro-batches than ranks each loop waits for the last)"
        case .oneFOneB, .gpipe, .zb1p, .dualpipe, .dualpipev: nil
        }
    }

    /// The formula as written in the README.
    public static func text(_ kind: ScheduleKind, stagesPerRank v: Int? = nil) -> String {
        switch kind {
        case .oneFOneB, .gpipe: "(PP-1)(F+B)"
        case .zb1p: "(PP-1)(F+B-2W)"
        case .zbv: "(PP/2-1)F"
        case .dualpipe, .dualpipev: "(PP/2-1)(F&B+B-3W)"
        case .interleaved1F1B, .loopedBFS: "(PP/\(v ?? 2)-1)(F+B)"
        case .interleavedZB: "(PP/\(v ?? 2)-1)(F+B-2W)"
        }
    }
}

/// Every kind simulated for the same number of pipeline stages PP and micro-batches M, the way the
/// README table compares them: DualPipeV and ZB-V fold PP stages onto PP/2 ranks and Interleaved
/// 1F1B loops them V times around PP/V ranks (V = 2 unless chosen); the others use PP ranks.
public struct Comparison: Sendable {
    public struct Row: Sendable {
        public let kind: ScheduleKind
        public let ranks: Int
        /// V: the stages each of the ranks holds.
        public let stagesPerRank: Int
        /// nil when the kind does not accept this configuration; `skipped` says why.
        public let simulation: Simulation?
        public let skipped: String?
        public let formula: Double
    }

    public let stages: Int
    public let microBatches: Int
    public let costs: Costs
    /// How the FB pairs met their messages.
    public let pairs: PairTiming
    public let rows: [Row]

    public static let order: [ScheduleKind] = [.gpipe, .oneFOneB, .zb1p, .loopedBFS, .interleaved1F1B, .interleavedZB, .zbv, .dualpipe, .dualpipev]

    /// `pairs`: how the FB pairs of DualPipe and DualPipeV meet their messages; `interleavedStagesPerRank`:
    /// the looped kinds' V; `placement`: the nodes each kind's ranks sit on (nil: one node,
    /// every message at `costs.latency`), asked of each kind's schedule as it has its own ranks;
    /// `gradientSums`: what summing a stage held twice costs, for each kind's whole step (nil: none).
    public init(stages: Int, microBatches: Int, costs: Costs, pairs: PairTiming = .atomic, interleavedStagesPerRank: Int = 2,
                placement: (Schedule) -> NodePlacement? = { _ in nil }, gradientSums: GradientSumCosts? = nil) {
        self.stages = stages
        self.microBatches = microBatches
        self.costs = costs
        self.pairs = pairs
        rows = Self.order.map { kind in
            let perRank = kind.isLooped ? interleavedStagesPerRank : ScheduleConfiguration.defaultStagesPerRank(kind)
            let ranks = stages / perRank
            let formula = BubbleFormula.readme(kind, stages: stages, stagesPerRank: perRank, costs: costs)
            if stages % perRank != 0 {
                let how = kind.isLooped ? "loop" : "fold"
                let need = perRank == 2 ? "an even number of stages" : "a multiple of \(perRank) stages"
                return Row(kind: kind, ranks: ranks, stagesPerRank: perRank, simulation: nil,
                           skipped: "needs \(need) (PP = \(stages)) to \(how) onto PP/\(perRank) ranks", formula: formula)
            }
            do {
                let schedule = try Schedule.generate(kind: kind, ranks: ranks, microBatches: microBatches, stagesPerRank: perRank)
                var simulation = try schedule.simulate(costs, pairs: pairs, placement: placement(schedule))
                simulation.gradientSums = gradientSums
                return Row(kind: kind, ranks: ranks, stagesPerRank: perRank, simulation: simulation, skipped: nil, formula: formula)
            } catch {
                return Row(kind: kind, ranks: ranks, stagesPerRank: perRank, simulation: nil, skipped: "\(error)", formula: formula)
            }
        }
    }
}
