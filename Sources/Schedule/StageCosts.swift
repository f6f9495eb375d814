/// Mean measured cost of each kind of action at each stage on each rank: F, B, W, BW of stage `s`
/// on rank `r`, and FB of a (forward stage, backward stage) pair on `r`. A prediction from these
/// knows that stages differ (the first holds the embedding, the last the head and the loss) and
/// that ranks do (DualPipe runs stage `s` on two ranks, one per direction, and one core may be
/// slower), but not that micro-batches do: what it misses is the variance within a kind.
public struct StageCosts: Sendable {
    /// The rank, the op and the stages of an action's chunks (two for FB), without its micro-batches.
    private struct Key: Hashable, Sendable {
        var rank: Int
        var op: Action.Op
        var stages: [Int]
        init(_ action: Action, rank: Int) { self.rank = rank; op = action.op; stages = action.chunks.map(\.stage) }
        init(rank: Int, op: Action.Op, stage: Int) { (self.rank, self.op, stages) = (rank, op, [stage]) }
    }

    private let means: [Key: Double]
    /// The rank that runs each action in the schedule the costs were measured on.
    private let rank: [Action: Int]
    /// Every rank's and stage's mean of a kind together: what an action whose (rank, kind, stages)
    /// never ran costs.
    public let kinds: Costs

    /// `durations`: what each of `schedule`'s actions took, in any one unit (one step's trace, say).
    /// Kinds that did not run get what the others imply, as in `Costs(measured:)`.
    public init(_ durations: [Action: Double], of schedule: Schedule) {
        var rank: [Action: Int] = [:]
        for (r, program) in schedule.program.enumerated() { for action in program { rank[action] = r } }
        var sums: [Key: (total: Double, count: Int)] = [:]
        var byOp: [Action.Op: [Double]] = [:]
        for (action, time) in durations {
            let key = Key(action, rank: rank[action] ?? -1)
            sums[key, default: (0, 0)].total += time
            sums[key, default: (0, 0)].count += 1
            byOp[action.op, default: []].append(time)
        }
        means = sums.mapValues { $0.total / Double($0.count) }
        self.rank = rank
        kinds = Costs(measured: byOp)
    }

    public func cost(of action: Action) -> Double {
        means[Key(action, rank: rank[action] ?? -1)] ?? kinds.cost(of: action)
    }

    /// An FB pair's parts alone, on the pair's rank: the mean F of its forward's stage, and the
    /// mean B and W of its backward's stage (each kind's mean where that rank ran none; half a
    /// BW each where the run had no separate B and W). A BW's: its stage's B and W.
    public func pairParts(of action: Action) -> PairParts {
        let r = rank[action] ?? -1
        func backward(_ b: Chunk) -> (Double, Double) {
            (means[Key(rank: r, op: .B, stage: b.stage)] ?? kinds.backwardInput,
             means[Key(rank: r, op: .W, stage: b.stage)] ?? kinds.backwardWeight)
        }
        switch action {
        case .forwardBackward(let f, let b):
            let (bi, w) = backward(b)
            return PairParts(forward: means[Key(rank: r, op: .F, stage: f.stage)] ?? kinds.forward, backwardInput: bi, backwardWeight: w)
        case .backward(let b):
            let (bi, w) = backward(b)
            return PairParts(forward: 0, backwardInput: bi, backwardWeight: w)
        default:
            return kinds.pairParts(of: action)
        }
    }
}

extension Costs {
    /// Each kind's mean over `durations`; kinds that did not run get what the others imply
    /// (B and W half a BW, BW = B + W, FB = F + BW; F a third of an FB, else 1).
    public init(measured durations: [Action.Op: [Double]]) {
        func mean(_ op: Action.Op) -> Double? {
            guard let d = durations[op], !d.isEmpty else { return nil }
            return d.reduce(0, +) / Double(d.count)
        }
        let f = mean(.F) ?? mean(.FB).map { $0 / 3 } ?? 1
        let bw = mean(.BW) ?? ((mean(.B) ?? 0) + (mean(.W) ?? 0))
        let full = bw > 0 ? bw : 2 * f
        self.init(forward: f, backwardInput: mean(.B) ?? full / 2, backwardWeight: mean(.W) ?? full / 2,
                  backward: full, forwardBackward: mean(.FB) ?? f + full)
    }

    /// These costs with BW raised to max(B, W) and then FB to max(F, BW) where they fall below
    /// (`validate()`'s rules), and what was raised ("BW 0.209 -> 0.239"). Measured means need it: a
    /// kind's mean mixes stages and ranks (a B of the head's stage, a BW of a cheap one) and, on a
    /// busy machine, time the rank was not running, so a trace's BW can average below its B where
    /// no single stage's would.
    public func liftedToItsRules() -> (costs: Costs, raised: [String]) {
        var lifted = self, raised: [String] = []
        let bw = max(backward, backwardInput, backwardWeight)
        if bw > backward { lifted.backward = bw; raised.append("BW \(format3(backward)) -> \(format3(bw))") }
        let fb = max(forwardBackward, forward, lifted.backward)
        if fb > forwardBackward { lifted.forwardBackward = fb; raised.append("FB \(format3(forwardBackward)) -> \(format3(fb))") }
        return (lifted, raised)
    }

    /// These costs (a trace's, within the rules) with the kinds given replacing their own, and
    /// the kinds built from them moved with them, each named as moved ("FB 0.320 -> 0.480"): a B
    /// or W given without a BW makes BW = B + W (as without a trace); an F or a BW that changes
    /// without an FB given moves FB by as much, so FB keeps the trace's overlap saving
    /// F + BW - FB, and never falls below max(F, BW). A kind given is taken as given
    /// (`validate()` judges it).
    public func overridden(forward f: Double?, backwardInput b: Double?, backwardWeight w: Double?,
                           backward bw: Double?, forwardBackward fb: Double?) -> (costs: Costs, moved: [String]) {
        var given = self, moved: [String] = []
        given.forward = f ?? forward
        given.backwardInput = b ?? backwardInput
        given.backwardWeight = w ?? backwardWeight
        given.backward = bw ?? (b == nil && w == nil ? backward : given.backwardInput + given.backwardWeight)
        if bw == nil, given.backward != backward { moved.append("BW \(format3(backward)) -> \(format3(given.backward))") }
        let shifted = forwardBackward + (given.forward - forward) + (given.backward - backward)
        given.forwardBackward = fb ?? max(shifted, given.forward, given.backward)
        if fb == nil, given.forwardBackward != forwardBackward {
            moved.append("FB \(format3(forwardBackward)) -> \(format3(given.forwardBackward))")
        }
        return (given, moved)
    }
}

extension Schedule {
    /// Times the schedule with every action at its (rank, kind, stages) mean and `latency` per
    /// message (each holding its link for `transfer`), its FB pairs timed as `pairs` says.
    public func simulate(_ costs: StageCosts, latency: Double, transfer: Double = 0, pairs: PairTiming = .atomic) throws -> Simulation {
        var simulation = try replay(latency: latency, transfer: transfer, pairs: pairs, parts: costs.pairParts(of:), duration: costs.cost(of:))
        simulation.costsPerStage = true
        return simulation
    }

    /// The same with each message costed on its own link.
    public func simulate(_ costs: StageCosts, links: Links, pairs: PairTiming = .atomic) throws -> Simulation {
        var simulation = try replay(links: links, pairs: pairs, parts: costs.pairParts(of:), duration: costs.cost(of:))
        simulation.costsPerStage = true
        return simulation
    }

    /// The same with the messages costed as `simulate(_:pairs:placement:)` costs them: `link`'s
    /// latency and transfer on every link, or `placement`'s across nodes. The report's costs are
    /// each kind's mean with `link`'s latency and transfer.
    public func simulate(_ costs: StageCosts, link: Costs, pairs: PairTiming = .atomic, placement: NodePlacement? = nil) throws -> Simulation {
        var links = Links(ranks: ranks, latency: link.latency, transfer: link.transfer)
        if let placement {
            try placement.validate(for: self)
            links = placement.links(inside: link)
        }
        var legend = costs.kinds
        (legend.latency, legend.transfer) = (link.latency, link.transfer)
        var simulation = try simulate(legend, links: links, pairs: pairs, parts: costs.pairParts(of:), cost: costs.cost(of:))
        simulation.placement = placement
        simulation.costsPerStage = true
        return simulation
    }
}
