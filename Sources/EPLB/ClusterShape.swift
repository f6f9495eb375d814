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

    /// The node of each rank: the last node `n` with `firstRank(ofNode: n) <= rank`. // [ranks]
    ///
    /// Computed per rank, so it costs O(ranks) however large `nodes` is: the global layout ignores nodes, and
    /// like eplb.py accepts more nodes than ranks (then some nodes hold no rank).
    public func nodeOfRank() -> [Int] {
        (0..<ranks).map { rank in
            // The largest n with n * ranks / nodes <= rank, i.e. n * ranks < (rank + 1) * nodes:
            // ((rank + 1) * nodes - 1) / ranks, in full width so that no product overflows.
            let product = (rank + 1).multipliedFullWidth(by: nodes)
            let (low, borrow) = product.low.subtractingReportingOverflow(1)
            return ranks.dividingFullWidth((high: borrow ? product.high - 1 : product.high, low: low)).quotient
        }
    }

    public func firstExpert(ofGroup group: Int, logicalExperts: Int) -> Int { group * logicalExperts / groups }

    /// Rules every policy needs (and eplb.py asserts on every path). Each error names the value and the rule.
    ///
    /// Groups and nodes are not bounded here: the global layout (nodes not dividing groups) ignores them, and
    /// eplb.py accepts more groups than experts or more nodes than ranks there.
    public func validate(logicalExperts: Int) throws {
        for (name, value) in [("replicas", replicas), ("groups", groups), ("nodes", nodes), ("ranks", ranks)]
        where value <= 0 {
            throw EPLBError("\(name) = \(value): it must be a positive count")
        }
        guard ranks <= EPLBLimits.ranks else {
            throw EPLBError("ranks = \(ranks) exceeds the limit of \(EPLBLimits.ranks) ranks (docs/inputs.md)")
        }
        guard replicas <= EPLBLimits.replicas else {
            throw EPLBError("replicas = \(replicas) exceeds the limit of \(EPLBLimits.replicas) slots per layer (docs/inputs.md)")
        }
        guard logicalExperts <= EPLBLimits.expertsTimesRanks / ranks else {
            throw EPLBError(
                "\(logicalExperts) logical experts x ranks = \(ranks) exceeds the limit of \(EPLBLimits.expertsTimesRanks) (a layer's per-rank tables; docs/inputs.md)")
        }
        guard replicas >= logicalExperts else {
            throw EPLBError(
                "replicas = \(replicas) is fewer than the \(logicalExperts) logical experts: every expert needs a slot")
        }
    }

    /// How the layout was chosen, for error messages.
    private var layoutReason: String {
        isHierarchical
            ? "hierarchical layout, used because nodes = \(nodes) divides groups = \(groups)"
            : "global layout, used because nodes = \(nodes) does not divide groups = \(groups)"
    }

    /// Exactly the asserts of DeepSeek's eplb.py (beyond `validate`). Both layouts need `replicas % ranks == 0`.
    /// The hierarchical layout (nodes divides groups) also needs `logicalExperts % groups == 0` and
    /// `ranks % nodes == 0`, which imply groups <= experts and nodes <= ranks. The global layout runs the
    /// hierarchical procedure with one group and one node, so it accepts any positive groups and nodes.
    public func validateForReference(logicalExperts: Int) throws {
        try validate(logicalExperts: logicalExperts)
        guard replicas % ranks == 0 else {
            throw EPLBError(
                "replicas = \(replicas) is not a multiple of ranks = \(ranks): the reference policy gives every rank the same number of slots (the balanced policy does not need it)")
        }
        if isHierarchical {
            guard logicalExperts % groups == 0 else {
                let balanced =
                    groups > logicalExperts
                    ? "the balanced policy refuses more groups than experts there too"
                    : "the balanced policy does not"
                throw EPLBError(
                    "groups = \(groups) does not divide the \(logicalExperts) logical experts: the reference policy's \(layoutReason), needs groups of equal size (\(balanced))")
            }
            guard ranks % nodes == 0 else {
                let balanced =
                    nodes > ranks
                    ? "the balanced policy refuses more nodes than ranks there too" : "the balanced policy does not"
                throw EPLBError(
                    "ranks = \(ranks) is not a multiple of nodes = \(nodes): the reference policy's \(layoutReason), needs the same number of ranks on every node (\(balanced))")
            }
        }
    }

    /// The balanced policy places any shape the reference places, and shapes it refuses, except two cases:
    /// more replicas than `logicalExperts * ranks` (some rank would hold two replicas of one expert), and, in
    /// the hierarchical layout only, a group with no expert (groups > experts) or a node with no rank
    /// (nodes > ranks).
    public func validateForBalanced(logicalExperts: Int) throws {
        try validate(logicalExperts: logicalExperts)
        // replicas <= logicalExperts * ranks, written so that the product cannot overflow.
        guard (replicas - 1) / ranks < logicalExperts else {
            throw EPLBError(
                "replicas = \(replicas) exceeds logical experts x ranks = \(logicalExperts) x \(ranks): some rank would have to hold two replicas of one expert, which the balanced policy never does (the reference policy allows it)")
        }
        if isHierarchical {
            guard groups <= logicalExperts else {
                throw EPLBError(
                    "groups = \(groups) exceeds the \(logicalExperts) logical experts: in the \(layoutReason), the balanced policy needs at least one expert in every group (the reference policy refuses it too)")
            }
            guard nodes <= ranks else {
                throw EPLBError(
                    "nodes = \(nodes) exceeds ranks = \(ranks): in the \(layoutReason), the balanced policy needs at least one rank on every node (the reference policy refuses it too)")
            }
        }
    }
}
