/// Capped greedy replication, shared by `PoolPacking` (which packs the replicas it gives) and `NodePacking`
/// (which only needs the heaviest replica to bound a node's busiest rank): both must share slots out the same
/// way, or the node bound would not describe the packing that follows.
///
/// Every expert starts with one replica; each extra slot goes to the expert with the largest load per replica
/// (the first such expert on a tie) among experts with fewer than `cap` replicas. Stops early when every expert
/// has `cap` replicas; callers that must fill every slot check `count` adds up to `slots`.
/// (eplb.py's uncapped Float32 version is `Replication`, kept apart to match its arithmetic.)
/// - Parameters:
///   - weight: [experts] loads.
///   - slots: slots to share out; fewer than the experts gives every expert one replica.
///   - cap: the most replicas of one expert.
/// - Returns: count, [experts] replicas per expert; perReplica, [experts] load per replica.
func cappedReplication(_ weight: [Double], slots: Int, cap: Int) -> (count: [Int], perReplica: [Double]) {
    var count = [Int](repeating: 1, count: weight.count)
    var perReplica = weight  // only the expert that gains a replica is recomputed
    count.withUnsafeMutableBufferPointer { count in
        perReplica.withUnsafeMutableBufferPointer { perReplica in
            for _ in weight.count..<max(slots, weight.count) {
                var best = -1
                var bestLoad = -1.0  // loads are non-negative: the first eligible expert beats it
                for e in 0..<count.count where count[e] < cap && perReplica[e] > bestLoad {
                    best = e
                    bestLoad = perReplica[e]
                }
                if best < 0 { break }
                count[best] += 1
                perReplica[best] = weight[best] / Double(count[best])
            }
        }
    }
    return (count, perReplica)
}
