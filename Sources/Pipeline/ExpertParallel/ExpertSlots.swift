import Model

/// The physical experts of one MoE layer over an EP group: R slots, R / EP on each EP rank (slot
/// p on EP rank p / (R / EP)), slot p holding logical expert `phy2log[p]`, as EPLB lays them out.
/// This rank builds only its own slots, each initialised exactly as the same logical expert of
/// the reference (its own parameter stream), so wherever an expert lives it starts the same.
public final class ExpertSlots {
    /// The transformer block this MoE layer belongs to.
    public let block: Int
    public let logicalExperts: Int
    /// [R] the logical expert in each physical slot.
    public private(set) var phy2log: [Int]
    public let slotsPerRank: Int
    /// This rank's index in the EP group.
    public let rank: Int
    /// [slotsPerRank] this rank's experts: slot `rank * slotsPerRank + k` is `experts[k]`.
    public private(set) var experts: [SwiGLU]
    let model: ModelConfiguration
    let seed: UInt64

    public init(block: Int, phy2log: [Int], rank: Int, ranks: Int, model: ModelConfiguration, seed: UInt64) {
        precondition(phy2log.count % ranks == 0, "\(phy2log.count) slots do not split over \(ranks) EP ranks")
        precondition(phy2log.allSatisfy { (0..<model.experts).contains($0) }, "phy2log \(phy2log) names experts outside 0..<\(model.experts)")
        self.block = block
        self.logicalExperts = model.experts
        self.phy2log = phy2log
        self.slotsPerRank = phy2log.count / ranks
        self.rank = rank
        self.model = model
        self.seed = seed
        experts = []
        experts = (0..<slotsPerRank).map { makeExpert(phy2log[rank * slotsPerRank + $0]) }
    }

    public var slots: Int { phy2log.count }
    /// This rank's physical slots.
    public var localSlots: Range<Int> { (rank * slotsPerRank)..<((rank + 1) * slotsPerRank) }
    public func rank(ofSlot p: Int) -> Int { p / slotsPerRank }

    /// [logical experts][replicas] the physical slots of each logical expert, ascending.
    public var replicas: [[Int]] {
        var result = [[Int]](repeating: [], count: logicalExperts)
        for (p, e) in phy2log.enumerated() { result[e].append(p) }
        return result
    }

    /// Whether slot p is the lowest-numbered replica of its expert (the one that counts once).
    public func isPrimaryReplica(_ p: Int) -> Bool { phy2log.firstIndex(of: phy2log[p]) == p }

    /// The expert of logical index `e` as the reference initialises it.
    func makeExpert(_ e: Int) -> SwiGLU {
        SwiGLU(name: "block\(block).moe.expert\(e)", hidden: model.hidden, inner: model.expertHidden,
               layers: model.layers, seed: seed, stream: [2, UInt64(block), 1, 2, UInt64(e)])
    }

    /// Installs a new layout; `experts` are this rank's slots under it (moved in by the caller).
    func install(phy2log: [Int], experts: [SwiGLU]) {
        precondition(phy2log.count == self.phy2log.count && experts.count == slotsPerRank, "new layout of another size")
        self.phy2log = phy2log
        self.experts = experts
    }

    /// Scalars of one expert's parameters.
    public var parametersPerExpert: Int { experts[0].parameterCount }
}
