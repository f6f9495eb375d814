/// How many physical expert slots there are and how the hardware is laid out.
///
/// Ranks are numbered node by node: node `n` owns ranks `n*ranks/nodes ..< (n+1)*ranks/nodes`, and rank `k`
/// owns the physical slots `k*replicas/ranks ..< (k+1)*replicas/ranks`. When the counts divide, every node has
/// `ranks/nodes` ranks and every rank `replicas/ranks` slots, as in DeepSeek's EPLB; when they do not, the
/// same formulas hand out floor or ceiling shares.
public struct ClusterShape: Sendable, Equatable, Codable {
    /// Physical expert slots per layer (logical experts plus redundant ones).
    public var replicas: Int
    /// Expert groups of group-limited routing; group `g` holds experts `g*E/groups ..< (g+1)*E/groups`.
    public var groups: Int
    /// Server nodes (fast network inside a node).
    public var nodes: Int
    /// Ranks (devices) over all nodes.
    public var ranks: Int

    public init(replicas: Int, groups: Int, nodes: Int, ranks: Int) {
        self.replicas = replicas
        self.groups = groups
        self.nodes = nodes
        self.ranks = ranks
    }

    /// The hierarchical layout (groups packed to nodes, then replicas to ranks inside each node) is used when
    /// the number of nodes divides the number of groups; otherwise the global layout (one pool of ranks).
    public var isHierarchical: Bool { groups % nodes == 0 }

    public func firstSlot(ofRank rank: Int) -> Int { rank * replicas / ranks }
    public func slotCount(ofRank rank: Int) -> Int { firstSlot(ofRank: rank + 1) - firstSlot(ofRank: rank) }
    public func firstRank(ofNode node: Int) -> Int { node * ranks / nodes }

    /// The rank holding each physical slot. // [replicas]
    public func rankOfSlot() -> [Int] {
        var owner = [Int](repeating: 0, count: replicas)
        for rank in 0..<ranks {
            for slot in firstSlot(ofRank: rank)..<firstSlot(ofRank: rank + 1) { owner[slot] = rank }
        }
        return owner
    }

    /// The node of each rank. // [ranks]
    public func nodeOfRank() -> [Int] {
        var owner = [Int](repeating: 0, count: ranks)
        for node in 0..<nodes {
            for rank in firstRank(ofNode: node)..<firstRank(ofNode: node + 1) { owner[rank] = node }
        }
        return owner
    }

    public func firstExpert(ofGroup group: Int, logicalExperts: Int) -> Int { group * logicalExperts / groups }

    /// Rules every policy needs. Each error names the value and the rule.
    public func validate(logicalExperts: Int) throws {
        for (name, value) in [("replicas", replicas), ("groups", groups), ("nodes", nodes), ("ranks", ranks)]
        where value <= 0 {
            throw EPLBError("\(name) = \(value): it must be a positive count")
        }
        guard replicas >= logicalExperts else {
            throw EPLBError(
                "replicas = \(replicas) is fewer than the \(logicalExperts) logical experts: every expert needs a slot")
        }
        guard groups <= logicalExperts else {
            throw EPLBError("groups = \(groups) exceeds the \(logicalExperts) logical experts: a group needs an expert")
        }
        guard nodes <= ranks else {
            throw EPLBError("nodes = \(nodes) exceeds ranks = \(ranks): every node needs at least one rank")
        }
    }

    /// The extra divisibility rules of DeepSeek's eplb.py, which asserts on them.
    public func validateForReference(logicalExperts: Int) throws {
        try validate(logicalExperts: logicalExperts)
        guard replicas % ranks == 0 else {
            throw EPLBError(
                "replicas = \(replicas) is not a multiple of ranks = \(ranks): the reference policy needs equal slots per rank (the balanced policy does not)")
        }
        if isHierarchical {
            guard logicalExperts % groups == 0 else {
                throw EPLBError(
                    "\(logicalExperts) logical experts do not split into groups = \(groups) equal groups: the reference hierarchical policy needs it (the balanced policy does not)")
            }
            guard ranks % nodes == 0 else {
                throw EPLBError(
                    "ranks = \(ranks) is not a multiple of nodes = \(nodes): the reference hierarchical policy needs it (the balanced policy does not)")
            }
        }
    }

    /// The balanced policy places any shape except one that forces two replicas of an expert onto one rank.
    public func validateForBalanced(logicalExperts: Int) throws {
        try validate(logicalExperts: logicalExperts)
        guard replicas <= logicalExperts * ranks else {
            throw EPLBError(
                "replicas = \(replicas) exceeds logical experts x ranks = \(logicalExperts * ranks): some rank would have to hold two replicas of one expert")
        }
    }
}
