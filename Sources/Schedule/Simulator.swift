/// Execution times of the compute actions and of the messages between ranks, in any one time unit.
public struct Costs: Hashable, Sendable, Codable {
    public var forward: Double          // F
    public var backwardInput: Double    // B
    public var backwardWeight: Double   // W
    public var backward: Double         // BW, full backward
    public var forwardBackward: Double  // FB, an overlapped forward and full backward
    public var latency: Double          // per point-to-point message, from its send to its arrival
    /// The time a message holds the link from its rank to the next (its bytes over the link's
    /// sustained rate): the messages one rank sends another take turns on it in the order they
    /// leave, each arriving `latency` after its turn began. 0: the link is never busy. It may
    /// exceed `latency` where a lone message crosses faster than a stream does (a link that lets a
    /// burst through).
    public var transfer: Double

    /// BW defaults to B + W, FB to F + BW (no overlap gain), latency and transfer to 0.
    public init(forward: Double = 1, backwardInput: Double = 1, backwardWeight: Double = 1,
                backward: Double? = nil, forwardBackward: Double? = nil, latency: Double = 0, transfer: Double = 0) {
        self.forward = forward
        self.backwardInput = backwardInput
        self.backwardWeight = backwardWeight
        let bw = backward ?? backwardInput + backwardWeight
        self.backward = bw
        self.forwardBackward = forwardBackward ?? forward + bw
        self.latency = latency
        self.transfer = transfer
    }

    /// The rules that keep a simulation meaningful, checked before one runs: every cost finite and
    /// >= 0; F > 0 (so the makespan, which the bubble ratio divides by, is positive); a full
    /// backward BW does the work of B and of W, so it takes at least as long as either; an
    /// overlapped FB runs a forward and a full backward side by side, so it takes at least as long
    /// as the longer of the two. Each error names the cost, its value and the rule.
    public func validate() throws(ScheduleError) {
        for (name, value) in [("F", forward), ("B", backwardInput), ("W", backwardWeight), ("BW", backward),
                              ("FB", forwardBackward), ("latency", latency), ("transfer", transfer)] where !(value.isFinite && value >= 0) {
            throw .invalidCosts("\(name) = \(value): every cost must be a finite number >= 0")
        }
        guard forward > 0 else {
            throw .invalidCosts("F = \(forward): a forward must cost more than 0 (the makespan must be positive)")
        }
        guard backward >= max(backwardInput, backwardWeight) else {
            throw .invalidCosts("BW = \(backward) is below max(B, W) = \(max(backwardInput, backwardWeight)): a full backward does the work of B and of W, so it cannot take less than either")
        }
        guard forwardBackward >= max(forward, backward) else {
            throw .invalidCosts("FB = \(forwardBackward) is below max(F, BW) = \(max(forward, backward)): an overlapped forward and full backward cannot take less than the longer of the two")
        }
    }

    /// An FB pair's parts alone: this F, B and W, whatever the pair's chunks (a BW: B and W).
    public func pairParts(of action: Action) -> PairParts {
        PairParts(forward: action.op == .BW ? 0 : forward, backwardInput: backwardInput, backwardWeight: backwardWeight)
    }

    public func cost(of action: Action) -> Double {
        switch action {
        case .forward: forward
        case .backwardInput: backwardInput
        case .backwardWeight: backwardWeight
        case .backward: backward
        case .forwardBackward: forwardBackward
        }
    }
}

/// One action on a rank's timeline.
public struct TimedAction: Hashable, Sendable {
    public var action: Action
    public var start: Double
    public var end: Double

    public init(action: Action, start: Double, end: Double) {
        self.action = action
        self.start = start
        self.end = end
    }
}

/// The simulated run of a schedule: each action starts once its rank is free and its inputs are
/// there (a producer on another rank delivers `latency` after it ends).
public struct Simulation: Sendable {
    public let schedule: Schedule
    public let costs: Costs
    /// What each message cost on its link: `costs.latency` and `costs.transfer` on every link,
    /// unless the simulation was given links of their own (then `costs` holds 0 for both).
    public let links: Links
    /// [ranks][steps]
    public let timeline: [[TimedAction]]
    /// End of the last action on any rank.
    public let makespan: Double
    /// [ranks] sum of the rank's action costs.
    public let busy: [Double]
    /// [ranks] activations alive at once at most: one lives from its F until its B or BW; inside an
    /// FB the new forward's activation is counted before the backward's is freed.
    public let peakActivations: [Int]
    /// [ranks] stages whose parameters the rank holds (1 = one stage's weights).
    public let parameterCopies: [Int]
    /// How the FB pairs met their messages.
    public internal(set) var pairs: PairTiming = .atomic
    /// The nodes the ranks sat on, if the simulation was given them (then `links` holds their
    /// costs across nodes, and `costs.latency` and `costs.transfer` the ones inside a node).
    public internal(set) var placement: NodePlacement?
    /// Whether each action was costed at its own (rank, kind, stages) mean (`StageCosts`); `costs`
    /// then holds only each kind's mean over all of them, the legend and not what was simulated.
    public internal(set) var costsPerStage = false
    /// What summing a stage held by two ranks costs, for the reports' whole step (nil: the reports
    /// end with the schedule).
    public var gradientSums: GradientSumCosts?

    /// [ranks] the step's work beyond the schedule's actions as measured (the phases after the
    /// schedule of a trace), for the picture; a simulation with `gradientSums` draws its sums.
    public var otherWork: [[StepSpan]] = []

    /// The step with its gradient sums, when `gradientSums` is given.
    public var wholeStep: WholeStep? { gradientSums.map(wholeStep(_:)) }

    /// [ranks] makespan minus busy time.
    public var idle: [Double] { busy.map { makespan - $0 } }
    /// The pipeline bubble: the largest idle time of any rank.
    public var bubble: Double { idle.max() ?? 0 }
    /// Idle share of all rank time: sum(idle) / (ranks * makespan).
    public var bubbleRatio: Double {
        makespan > 0 ? idle.reduce(0, +) / (Double(idle.count) * makespan) : 0
    }
}

extension Simulation {
    /// A measured run summarised and drawn like a simulated one: `timeline` holds each rank's
    /// actions with the times they really started and ended (any one unit, from a common zero);
    /// `costs` are what the picture's legend reports (the measured means, say).
    public init(measured schedule: Schedule, costs: Costs, timeline: [[TimedAction]]) {
        self.schedule = schedule
        self.costs = costs
        links = Links(ranks: schedule.ranks, latency: costs.latency, transfer: costs.transfer)
        self.timeline = timeline
        makespan = timeline.compactMap { $0.map(\.end).max() }.max() ?? 0
        busy = timeline.map { $0.reduce(0) { $0 + ($1.end - $1.start) } }
        peakActivations = timeline.map { Schedule.peakActivations($0.map(\.action)) }
        parameterCopies = schedule.program.indices.map { schedule.stagesHeld(by: $0).count }
    }
}

extension Schedule {
    /// Times the schedule under `costs`, its FB pairs timed as `pairs` says (by default as one
    /// indivisible action each), every message at `costs.latency` and `costs.transfer`, or with a
    /// `placement` those between its nodes at the placement's. The schedule must pass `validate()`.
    public func simulate(_ costs: Costs = Costs(), pairs: PairTiming = .atomic, placement: NodePlacement? = nil) throws -> Simulation {
        var links = Links(ranks: ranks, latency: costs.latency, transfer: costs.transfer)
        if let placement {
            try placement.validate(for: self)
            links = placement.links(inside: costs)
        }
        var simulation = try simulate(costs, links: links, pairs: pairs, parts: costs.pairParts(of:), cost: costs.cost(of:))
        simulation.placement = placement
        return simulation
    }

    /// Times the schedule with each action's own duration (`duration(action)`, e.g. as a run
    /// measured it) and `latency` per message, each holding its link for `transfer` (`Costs.transfer`):
    /// a replay, where `simulate(_:)` costs every action of a kind alike. What the two disagree on
    /// is the actions' variance. Under `.interleaved` pair timing, `parts` splits each pair's
    /// duration into its forward, backward and W.
    public func replay(latency: Double, transfer: Double = 0, pairs: PairTiming = .atomic,
                       parts: (Action) -> PairParts = { _ in .even },
                       duration: (Action) -> Double) throws -> Simulation {
        try simulate(Costs(latency: latency, transfer: transfer), links: Links(ranks: ranks, latency: latency, transfer: transfer),
                     pairs: pairs, parts: parts, cost: duration)
    }

    /// A replay whose messages cost what their own link does (a link between nodes slower than one
    /// inside a node, say).
    public func replay(links: Links, pairs: PairTiming = .atomic, parts: (Action) -> PairParts = { _ in .even },
                       duration: (Action) -> Double) throws -> Simulation {
        try links.validate(for: self)
        return try simulate(Costs(), links: links, pairs: pairs, parts: parts, cost: duration)
    }

    func simulate(_ costs: Costs, links: Links, pairs: PairTiming, parts: (Action) -> PairParts,
                          cost: (Action) -> Double) throws -> Simulation {
        let outcome = withoutActuallyEscaping(cost) { cost in
            withoutActuallyEscaping(parts) { parts in
                Dataflow(schedule: self, cost: cost, links: links, pairs: pairs, parts: parts).run()
            }
        }
        guard outcome.finished else {
            try validate()
            throw ScheduleError.malformed("the schedule cannot run to the end")
        }
        let timeline = program.indices.map { r in
            program[r].indices.map { k in
                TimedAction(action: program[r][k], start: outcome.start[r][k], end: outcome.end[r][k])
            }
        }
        var simulation = Simulation(
            schedule: self,
            costs: costs,
            links: links,
            timeline: timeline,
            makespan: outcome.end.compactMap(\.last).max() ?? 0,
            busy: program.map { $0.reduce(0) { $0 + cost($1) } },
            peakActivations: program.map(Self.peakActivations),
            parameterCopies: program.indices.map { stagesHeld(by: $0).count }
        )
        simulation.pairs = pairs
        return simulation
    }

    static func peakActivations(_ actions: [Action]) -> Int {
        mostAlive(actions, until: \.backwardChunk)
    }

    /// The most chunks alive at once in `actions`: each from its forward until the action whose
    /// `end` names a chunk (counted before that action frees one, so an FB's new forward is in).
    static func mostAlive(_ actions: [Action], until end: KeyPath<Action, Chunk?>) -> Int {
        var live = 0, peak = 0
        for action in actions {
            if action.forwardChunk != nil { live += 1; peak = max(peak, live) }
            if action[keyPath: end] != nil { live -= 1 }
        }
        return peak
    }
}
