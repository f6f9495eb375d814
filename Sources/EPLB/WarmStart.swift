extension KeepInPlace {
    /// For the global layout: keep every expert on the ranks that held it (as many copies as the new plan
    /// gives it), put the other copies first-fit by weight, then swap until the busiest rank is no busier
    /// than the plan's. Nil when that balance is not reached.
    /// - Parameters: planned and previous are [replicas] maps of one layer; weight is [logicalExperts].
    func warmStart(_ planned: [Int], previous: [Int], weight: [Double], busiest: Double) -> [Int]? {
        let ranks = shape.ranks
        var count = [Int](repeating: 0, count: experts)
        for e in planned { count[e] += 1 }
        var bins = [[Int]](repeating: [], count: ranks)
        var placed = [Int](repeating: 0, count: experts)
        for slot in previous.indices {
            let e = previous[slot], rank = rankOfSlot[slot]
            if placed[e] < count[e] && !bins[rank].contains(e) {
                bins[rank].append(e)
                placed[e] += 1
            }
        }
        let perReplica: [Double] = (0..<experts).map { weight[$0] / Double(count[$0]) }
        var missing: [Int] = []
        for e in 0..<experts where placed[e] < count[e] {
            missing.append(contentsOf: repeatElement(e, count: count[e] - placed[e]))
        }
        missing.sort { perReplica[$0] > perReplica[$1] || (perReplica[$0] == perReplica[$1] && $0 < $1) }
        var load: [Double] = bins.map { held in held.reduce(0.0) { $0 + perReplica[$1] } }
        for e in missing {
            var best = -1
            for r in 0..<ranks where bins[r].count < capacity[r] && !bins[r].contains(e) {
                if best < 0 || load[r] < load[best] { best = r }
            }
            if best < 0 { best = (0..<ranks).first { bins[$0].count < capacity[$0] }! }
            bins[best].append(e)
            load[best] += perReplica[e]
        }
        var pool = PoolPacking()
        pool.refine(weight: weight, start: bins, target: busiest)
        guard pool.busiest <= busiest * (1 + 1e-12), !pool.hasDuplicates else { return nil }
        var result = [Int](repeating: 0, count: previous.count)
        for rank in 0..<ranks {
            let held = (pool.offset[rank]..<pool.offset[rank + 1]).map { pool.slotExpert[$0] }.sorted()
            for (q, e) in held.enumerated() { result[shape.firstSlot(ofRank: rank) + q] = e }
        }
        return result
    }
}
