import ArgumentParser
import EPLB
import Foundation

/// Speed of both placement policies on the DeepSeek-V3-like case, and their balance on the Zipf suite.
struct BenchEPLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eplb",
        abstract: "EPLB placement speed (median wall and CPU ms per call) and balance of both policies on the Zipf suite.",
        discussion: "Build with -c release for meaningful times. Runs on one thread.")

    @Option(help: "MoE layers of the timed case.")
    var layers = 58
    @Option(help: "Logical experts per layer.")
    var experts = 256
    @Option(help: "Physical expert slots per layer.")
    var replicas = 288
    @Option(help: "Ranks.")
    var ranks = 32
    @Option(help: "Nodes of the hierarchical case; they must divide --groups.")
    var nodes = 4
    @Option(help: "Expert groups.")
    var groups = 8
    @Option(help: "Zipf exponent of the timed loads.")
    var exponent = 1.0
    @Option(help: "Timed calls per row; the median is printed.")
    var repeats = 21
    @Option(help: "Layers per case of the Zipf balance suite; 0 skips the suite.")
    var suiteLayers = 8

    /// The two layouts the benchmark times: one group on one node is eplb.py's global policy (it
    /// calls the hierarchical one with 1 and 1).
    private var shapes: [(String, ClusterShape)] {
        [("hierarchical", ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)),
         ("global", ClusterShape(replicas: replicas, groups: 1, nodes: 1, ranks: ranks))]
    }

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        for (name, value) in [("layers", layers), ("experts", experts), ("repeats", repeats)] where value <= 0 {
            throw ValidationError("--\(name) \(value): it must be positive")
        }
        // DeepSeek's eplb.py places hierarchically only where the nodes divide the groups, and
        // globally otherwise: a row labelled hierarchical would time the global case twice.
        guard nodes < 1 || groups < 1 || groups % nodes == 0 else {
            throw ValidationError("--groups \(groups) with --nodes \(nodes): the hierarchical case needs the nodes to divide the groups (otherwise EPLB places globally, the other row)")
        }
        guard suiteLayers >= 0 else { throw ValidationError("--suite-layers \(suiteLayers): it must be >= 0") }
        guard exponent.isFinite && (0...10).contains(exponent) else {
            throw ValidationError("--exponent \(exponent): the Zipf exponent must be a finite number in 0...10")
        }
        // Both policies run on both layouts: each must accept the shape.
        do {
            try EPLBLimits.check(layers: layers, perLayer: experts, what: "loads")
            try EPLBLimits.check(layers: suiteLayers, perLayer: ZipfCase.suite.map(\.shape.replicas).max() ?? 1, what: "slots")
            for (name, shape) in shapes {
                try shape.validateSize(layers: layers)
                do {
                    try shape.validateForReference(logicalExperts: experts)
                    try shape.validateForBalanced(logicalExperts: experts)
                } catch let error as EPLBError {
                    throw EPLBError("the \(name) case: \(error.message)")
                }
            }
        } catch let error as EPLBError {
            throw ValidationError("--layers \(layers) --experts \(experts) --replicas \(replicas) --ranks \(ranks) --nodes \(nodes) --groups \(groups): \(error.message)")
        }
    }

    func run() throws {
        let loads = ExpertLoads.zipf(layers: layers, logicalExperts: experts, exponent: exponent, seed: 2024)
        let rows = shapes
        print("EPLB placement: \(layers) layers x \(experts) experts -> \(replicas) replicas on \(ranks) ranks, "
            + "\(groups) groups, Zipf \(exponent), median of \(repeats) calls")
        print("layout".padded(14) + "policy".padded(10) + "wall ms".leftPadded(10) + "cpu ms".leftPadded(10)
            + ("max/mean").leftPadded(10) + "dup".leftPadded(6))
        for (name, shape) in rows {
            for policy in ["reference", "balanced"] {
                var placement: Placement?
                var times: [Double] = [], cpuTimes: [Double] = []
                for _ in 0..<repeats {
                    let start = ContinuousClock.now, cpuStart = threadCPUMilliseconds()
                    placement = try place(policy, loads, shape)
                    cpuTimes.append(threadCPUMilliseconds() - cpuStart)
                    times.append((ContinuousClock.now - start).inSeconds * 1e3)
                }
                let metrics = PlacementMetrics(loads: loads, shape: shape, placement: placement!)
                print(name.padded(14) + policy.padded(10) + (decimal(median(times), 3)).leftPadded(10)
                    + (decimal(median(cpuTimes), 3)).leftPadded(10)
                    + (decimal(metrics.meanBalance, 3)).leftPadded(10)
                    + "\(metrics.sameRankDuplicates)".leftPadded(6))
            }
        }
        try runKeepInPlace(loads, rows)
        if suiteLayers > 0 { try runSuite() }
    }

    /// Loads drift by up to +-20% per expert; the previous placement is balanced's plan for the old loads.
    private func runKeepInPlace(_ before: ExpertLoads, _ rows: [(String, ClusterShape)]) throws {
        let after = before.drifted(by: 0.2, seed: 77)
        print("\nKeeping experts in place: loads drift by up to 20%; moved = expert weights to fetch, all layers")
        print("layout".padded(14) + "plan".padded(26) + "moved".leftPadded(8) + ("max/mean").leftPadded(10)
            + "ms".leftPadded(8))
        for (name, shape) in rows {
            let previous = try BalancedPolicy.place(before, shape)
            let plans: [(String, () throws -> Placement)] = [
                ("reference", { try ReferencePolicy.place(after, shape) }),
                ("balanced, no --previous", { try BalancedPolicy.place(after, shape) }),
                ("balanced, --previous", { try BalancedPolicy.place(after, shape, previous: previous) }),
            ]
            for (label, plan) in plans {
                let start = ContinuousClock.now
                let placement = try plan()
                let elapsed = (ContinuousClock.now - start).inSeconds * 1e3
                let metrics = PlacementMetrics(loads: after, shape: shape, placement: placement, previous: previous)
                print(name.padded(14) + label.padded(26) + ("\(metrics.moved ?? 0)").leftPadded(8)
                    + (decimal(metrics.meanBalance, 3)).leftPadded(10) + (decimal(elapsed, 2)).leftPadded(8))
            }
        }
    }

    private func runSuite() throws {
        print("\nZipf suite: mean over \(suiteLayers) layers of max/mean rank load; dup = same-rank duplicates")
        print("case".padded(52) + "reference".leftPadded(11) + "balanced".leftPadded(10)
            + "ref dup".leftPadded(9) + "bal dup".leftPadded(9))
        var sums = (0.0, 0.0)
        for item in ZipfCase.suite {
            let loads = item.loads(layers: suiteLayers)
            let reference = PlacementMetrics(
                loads: loads, shape: item.shape, placement: try ReferencePolicy.place(loads, item.shape))
            let balanced = PlacementMetrics(
                loads: loads, shape: item.shape, placement: try BalancedPolicy.place(loads, item.shape))
            sums.0 += reference.meanBalance
            sums.1 += balanced.meanBalance
            print((item.description).padded(52) + (decimal(reference.meanBalance, 3)).leftPadded(11)
                + (decimal(balanced.meanBalance, 3)).leftPadded(10)
                + "\(reference.sameRankDuplicates)".leftPadded(9)
                + "\(balanced.sameRankDuplicates)".leftPadded(9))
        }
        let n = Double(ZipfCase.suite.count)
        print("mean over \(ZipfCase.suite.count) cases".padded(52) + (decimal(sums.0 / n, 3)).leftPadded(11)
            + (decimal(sums.1 / n, 3)).leftPadded(10))
    }

    private func place(_ policy: String, _ loads: ExpertLoads, _ shape: ClusterShape) throws -> Placement {
        policy == "reference" ? try ReferencePolicy.place(loads, shape) : try BalancedPolicy.place(loads, shape)
    }
}


/// CPU time of this thread: unlike wall time it does not count while other processes hold the core.
private func threadCPUMilliseconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) * 1e3 + Double(now.tv_nsec) * 1e-6
}

