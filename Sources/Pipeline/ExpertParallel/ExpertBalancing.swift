/// How experts are kept balanced over the EP group during training.
public struct ExpertBalancing: Sendable, Equatable {
    /// The placement policy for the initial layout and every rebalance.
    public var policy: PlacementPolicy
    /// The load statistics are an exponential moving average: load <- decay * load + (1 - decay) * this step's tokens.
    public var loadDecay: Double
    /// Steps between rebalances (0: never; the initial uniform layout stays).
    public var rebalanceEvery: Int
    /// DeepSeek-V3's auxiliary-loss-free balancing: after each step every expert's routing bias
    /// moves by this much toward balance (0: off).
    public var routerBiasSpeed: Float

    public init(policy: PlacementPolicy = .balanced, loadDecay: Double = 0.9, rebalanceEvery: Int = 0, routerBiasSpeed: Float = 0) {
        self.policy = policy
        self.loadDecay = loadDecay
        self.rebalanceEvery = rebalanceEvery
        self.routerBiasSpeed = routerBiasSpeed
    }

    public func validate() throws(PipelineError) {
        guard loadDecay >= 0 && loadDecay < 1 else { throw PipelineError("--load-decay \(loadDecay) must be in [0, 1)") }
        guard rebalanceEvery >= 0 else { throw PipelineError("--rebalance-every \(rebalanceEvery) must be >= 0 (0: never)") }
        guard routerBiasSpeed >= 0 && routerBiasSpeed.isFinite else {
            throw PipelineError("--router-bias-speed \(routerBiasSpeed) must be a finite number >= 0 (0: off)")
        }
    }
}
