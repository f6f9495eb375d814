/// Our policy: the reference's structure (hierarchical when the number of nodes divides the number of groups,
/// global otherwise) with what it lacks.
///
/// - No rank ever holds two replicas of one logical expert.
/// - Lower busiest-rank load: groups go to nodes by a cost that counts how finely the node can split its
///   heavy experts (`NodePacking`), and replicas are packed with swaps after the first fit (`PoolPacking`).
/// - Shapes the reference refuses are placed: ranks may hold `floor` or `ceil(replicas / ranks)` slots, nodes
///   different numbers of ranks, groups different numbers of experts. When the groups cannot be kept whole on
///   nodes (a node would get more experts than slots), that layer falls back to the global layout. Refused
///   (`validateForBalanced`): more replicas than experts x ranks, and in the hierarchical layout more groups
///   than experts or more nodes than ranks.
/// - Given the previous placement, experts stay on their ranks where that costs no balance (`KeepInPlace`).
public enum BalancedPolicy {
    public static func place(_ loads: ExpertLoads, _ shape: ClusterShape, previous: Placement? = nil) throws
        -> Placement
    {
        try shape.validateForBalanced(logicalExperts: loads.logicalExperts)
        try shape.validateSize(layers: loads.layers)
        if let previous { try validate(previous: previous, loads: loads, shape: shape) }
        let experts = loads.logicalExperts, replicas = shape.replicas
        var phy2log = [Int](repeating: 0, count: loads.layers * replicas)  // [layers, replicas]
        var planner = LayerPlanner(shape: shape, logicalExperts: experts)
        let keeper = KeepInPlace(shape: shape, logicalExperts: experts)
        for layer in 0..<loads.layers {
            let weight = Array(loads.row(layer))  // [logicalExperts]
            var layerMap = planner.plan(weight)  // [replicas]
            if let previous {
                layerMap = keeper.keep(
                    layerMap, previous: Array(previous.phy2log(layer: layer)), weight: weight,
                    nodeOfGroup: planner.nodeOfGroup, groupStart: planner.groupStart)
            }
            phy2log.replaceSubrange((layer * replicas)..<((layer + 1) * replicas), with: layerMap)
        }
        return Placement(layers: loads.layers, logicalExperts: experts, replicas: replicas, phy2log: phy2log)
    }

    static func validate(previous: Placement, loads: ExpertLoads, shape: ClusterShape) throws {
        guard previous.layers == loads.layers else {
            throw EPLBError("previous placement has \(previous.layers) layers; the loads have \(loads.layers)")
        }
        guard previous.replicas == shape.replicas else {
            throw EPLBError(
                "previous placement has \(previous.replicas) replicas per layer; the request has replicas = \(shape.replicas)")
        }
        guard previous.logicalExperts <= loads.logicalExperts else {
            throw EPLBError(
                "previous placement names expert \(previous.logicalExperts - 1); the loads have \(loads.logicalExperts) experts")
        }
    }
}
