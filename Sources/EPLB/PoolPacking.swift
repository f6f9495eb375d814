/// Replicates and packs the experts of one pool (a node in the hierarchical layout, the whole cluster in the
/// global one) onto the pool's ranks, without ever putting two replicas of an expert on one rank.
///
/// 1. Replica counts (`cappedReplication`): each extra slot goes to the expert with the largest load per
///    replica, among experts with fewer replicas than the pool has ranks (a replica per rank at most).
/// 2. First fit by weight: replicas by descending load (ties by expert), each to the lightest rank (lowest
///    index on a tie) that has a free slot and no replica of that expert yet.
/// 3. Swaps: while a replica of the busiest rank can trade places with a lighter replica of another rank so
///    that both ranks end below the busiest rank's old load (and no rank gets a second replica of an expert),
///    make the best such trade with the lightest rank that has one. Stop within 0.05% of the lower bound.
///
/// Slots are flat: rank `r` of the pool owns positions `offset[r] ..< offset[r + 1]`.
struct PoolPacking {
    private(set) var slotExpert: [Int] = []  // [slots] pool-local expert of each position
    private(set) var slotLoad: [Double] = []  // [slots] load carried by that replica
    private(set) var rankLoad: [Double] = []  // [ranks]
    private(set) var offset: [Int] = []  // [ranks + 1]
    private(set) var count: [Int] = []  // [experts] replicas per expert
    private var copies: [UInt16] = []  // [ranks, experts] replicas of each expert on each rank
    private var itemExpert: [Int] = []
    private var byLoad: [Int] = []  // [ranks] ranks by ascending load
    private var experts = 0

    var ranks: Int { rankLoad.count }

    /// - Parameters:
    ///   - weight: [experts] loads of the pool's experts.
    ///   - capacity: [ranks] slots of each of the pool's ranks.
    ///   - maxSwaps: bound on step 3 (each swap lowers the busiest rank or ends the search).
    ///   - replicaCap: the most replicas of one expert; at most (and by default) the number of ranks.
    ///   - good: swaps stop once the busiest rank is this light (a bound the caller cannot go below anyway,
    ///     such as the busiest rank another node is sure to have).
    mutating func solve(
        weight: [Double], capacity: [Int], replicaCap: Int? = nil, good: Double = 0, maxSwaps: Int = 4096
    ) {
        experts = weight.count
        let ranks = capacity.count
        offset = [0]
        for c in capacity { offset.append(offset[offset.count - 1] + c) }
        let slots = offset[ranks]
        count = cappedReplication(weight, slots: slots, cap: min(replicaCap ?? ranks, ranks)).count
        // The caller picks a cap that fills the slots (LayerPlanner checks cap * experts >= slots).
        precondition(
            experts <= slots && count.reduce(0, +) == slots,
            "\(experts) experts, cap \(min(replicaCap ?? ranks, ranks)) cannot fill \(slots) slots")
        firstFit(weight: weight, ranks: ranks, slots: slots)
        repairDuplicates()
        var heaviest = 0.0, total = 0.0
        for e in 0..<experts {
            heaviest = max(heaviest, weight[e] / Double(count[e]))
            total += weight[e]
        }
        lowerBound = max(heaviest, total / Double(max(ranks, 1)))
        var swaps = 0
        let enough = max(lowerBound * (1 + 5e-4), good)
        while swaps < maxSwaps, improveBusiestRank(enough: enough) { swaps += 1 }
    }

    /// Starts from a given assignment instead of the first fit and swaps until the busiest rank is at most
    /// `target` (or no swap helps): used to stay close to a previous placement.
    /// - Parameter start: [ranks][slots of the rank] pool-local experts, at most one copy of each per rank.
    mutating func refine(weight: [Double], start: [[Int]], target: Double, maxSwaps: Int = 4096) {
        experts = weight.count
        let ranks = start.count
        offset = [0]
        for held in start { offset.append(offset[offset.count - 1] + held.count) }
        count = [Int](repeating: 0, count: experts)
        for held in start { for e in held { count[e] += 1 } }
        slotExpert = start.flatMap { $0 }
        slotLoad = slotExpert.map { weight[$0] / Double(count[$0]) }
        rankLoad = (0..<ranks).map { r in (offset[r]..<offset[r + 1]).reduce(0) { $0 + slotLoad[$1] } }
        copies = [UInt16](repeating: 0, count: ranks * experts)
        for r in 0..<ranks { for i in offset[r]..<offset[r + 1] { copies[r * experts + slotExpert[i]] += 1 } }
        byLoad = Array(0..<ranks)
        lowerBound = 0
        repairDuplicates()
        var swaps = 0
        while swaps < maxSwaps, improveBusiestRank(enough: target) { swaps += 1 }
    }

    /// Whether some rank holds two replicas of one expert (only possible after `refine` from a start that
    /// left no other way).
    var hasDuplicates: Bool { copies.contains { $0 > 1 } }

    /// No placement with these replica counts can have a lighter busiest rank: max(mean rank load,
    /// heaviest replica).
    private(set) var lowerBound = 0.0

    /// Load of the busiest rank.
    var busiest: Double { rankLoad.max() ?? 0 }

    /// Whether the busiest rank holds replicas of two or more replicated experts: then fewer replicas of the
    /// heaviest experts (so that they need not share ranks) may balance better.
    var busiestRankStacksReplicas: Bool {
        guard let top = rankLoad.indices.max(by: { rankLoad[$0] < rankLoad[$1] }),
            rankLoad[top] > lowerBound * (1 + 1e-3)
        else { return false }
        return (offset[top]..<offset[top + 1]).filter { count[slotExpert[$0]] > 1 }.count >= 2
    }

    private mutating func firstFit(weight: [Double], ranks: Int, slots: Int) {
        let perReplica = (0..<experts).map { weight[$0] / Double(count[$0]) }
        // Experts by descending load per replica (ties by expert id), each repeated once per replica: the
        // replicas of one expert stay together.
        var expertOrder = (0..<experts).map { HeavierFirst(load: perReplica[$0], index: $0) }
        expertOrder.sort()
        itemExpert.removeAll(keepingCapacity: true)
        for key in expertOrder {
            for _ in 0..<count[key.index] { itemExpert.append(key.index) }
        }
        slotExpert = [Int](repeating: 0, count: slots)
        slotLoad = [Double](repeating: 0, count: slots)
        rankLoad = [Double](repeating: 0, count: ranks)
        byLoad = Array(0..<ranks)
        copies = [UInt16](repeating: 0, count: ranks * experts)
        let experts = self.experts
        var load = rankLoad  // [ranks]
        var free = (0..<ranks).map { offset[$0 + 1] - offset[$0] }  // [ranks] slots still open
        // [ranks] load of a rank with a free slot, infinity for a full one: the lightest open rank is a
        // plain minimum search.
        var open = free.map { $0 > 0 ? 0.0 : Double.infinity }
        load.withUnsafeMutableBufferPointer { load in
            free.withUnsafeMutableBufferPointer { free in
                open.withUnsafeMutableBufferPointer { open in
                    copies.withUnsafeMutableBufferPointer { copies in
                        for e in itemExpert {
                            // The lightest open rank (first on a tie); if it already holds e, the lightest open
                            // rank without e. Only the last free slots can all sit on ranks that hold e;
                            // repairDuplicates fixes that.
                            var r = 0
                            for k in 1..<ranks where open[k] < open[r] { r = k }
                            if copies[r * experts + e] != 0 {
                                var best = -1
                                for k in 0..<ranks where open[k] < .infinity && copies[k * experts + e] == 0 {
                                    if best < 0 || open[k] < open[best] { best = k }
                                }
                                if best >= 0 { r = best }
                            }
                            let position = offset[r + 1] - free[r]
                            slotExpert[position] = e
                            slotLoad[position] = perReplica[e]
                            load[r] += perReplica[e]
                            free[r] -= 1
                            open[r] = free[r] > 0 ? load[r] : .infinity
                            copies[r * experts + e] += 1
                        }
                    }
                }
            }
        }
        rankLoad = load
    }

    /// Trades each surplus copy with a replica of another rank, choosing the trade with the lowest resulting
    /// pair maximum. With counts capped at the number of ranks such a trade always exists.
    private mutating func repairDuplicates() {
        for a in 0..<ranks {
            for i in offset[a]..<offset[a + 1] where copies[a * experts + slotExpert[i]] > 1 {
                let e = slotExpert[i]
                var bestJ = -1, bestB = -1
                var bestMax = Double.infinity
                for b in 0..<ranks where b != a && copies[b * experts + e] == 0 {
                    for j in offset[b]..<offset[b + 1] where copies[a * experts + slotExpert[j]] == 0 {
                        let delta = slotLoad[i] - slotLoad[j]
                        let pairMax = max(rankLoad[a] - delta, rankLoad[b] + delta)
                        if pairMax < bestMax {
                            bestMax = pairMax
                            bestJ = j
                            bestB = b
                        }
                    }
                }
                if bestJ >= 0 { trade(i, a, bestJ, bestB) }
            }
        }
    }

    /// One swap that lowers the busiest rank: ranks are tried lightest first, and the best trade with the
    /// first rank that has one is made. False when no trade lowers the busiest rank, or when it is already
    /// within 0.05% of the lower bound (mean rank load, heaviest replica).
    private mutating func improveBusiestRank(enough: Double) -> Bool {
        let ranks = self.ranks
        rankLoad.withUnsafeBufferPointer { load in
            byLoad.withUnsafeMutableBufferPointer { byLoad in
                // Insertion sort from the last order: a swap moves only two ranks.
                for k in 1..<max(ranks, 1) {
                    let r = byLoad[k]
                    var m = k
                    while m > 0 && load[byLoad[m - 1]] > load[r] {
                        byLoad[m] = byLoad[m - 1]
                        m -= 1
                    }
                    byLoad[m] = r
                }
            }
        }
        let a = byLoad[ranks - 1], top = rankLoad[a]
        if top <= enough { return false }
        var bestI = -1, bestJ = -1, bestB = -1
        var bestMax = top - 1e-12 * top
        let experts = self.experts
        slotExpert.withUnsafeBufferPointer { slotExpert in
            slotLoad.withUnsafeBufferPointer { slotLoad in
                rankLoad.withUnsafeBufferPointer { rankLoad in
                    offset.withUnsafeBufferPointer { offset in
                        copies.withUnsafeBufferPointer { copies in
                            for k in 0..<(ranks - 1) {
                                let b = byLoad[k], lb = rankLoad[b]
                                if lb >= bestMax || bestI >= 0 { break }
                                for i in offset[a]..<offset[a + 1] {
                                    let e = slotExpert[i], x = slotLoad[i]
                                    if copies[b * experts + e] != 0 { continue }
                                    for j in offset[b]..<offset[b + 1] {
                                        let delta = x - slotLoad[j]
                                        guard delta > 0 else { continue }
                                        let pairMax = max(top - delta, lb + delta)
                                        if pairMax < bestMax && copies[a * experts + slotExpert[j]] == 0 {
                                            bestMax = pairMax
                                            bestI = i
                                            bestJ = j
                                            bestB = b
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard bestI >= 0 else { return false }
        trade(bestI, a, bestJ, bestB)
        return true
    }

    private mutating func trade(_ i: Int, _ a: Int, _ j: Int, _ b: Int) {
        let e = slotExpert[i], f = slotExpert[j], x = slotLoad[i], y = slotLoad[j]
        copies[a * experts + e] -= 1
        copies[b * experts + f] -= 1
        copies[a * experts + f] += 1
        copies[b * experts + e] += 1
        slotExpert[i] = f
        slotExpert[j] = e
        slotLoad[i] = y
        slotLoad[j] = x
        rankLoad[a] += y - x
        rankLoad[b] += x - y
    }
}
