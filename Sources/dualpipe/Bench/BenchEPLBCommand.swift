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
    @Option(help: "Nodes of the hierarchical case.")
    var nodes = 4
    @Option(help: "Expert groups.")
    var groups = 8
    @Option(help: "Zipf exponent of the timed loads.")
    var exponent = 1.0
    @Option(help: "Timed calls per row; the median is printed.")
    var repeats = 21
    @Option(help: "Layers per case of the Zipf balance suite; 0 skips the suite.")
    var suiteLayers = 8

    func validate() throws {
        for (name, value) in [("layers", layers), ("experts", experts), ("repeats", repeats)] where value <= 0 {
            throw ValidationError("--\(name) \(value): it must be positive")
        }
        guard suiteLayers >= 0 else { throw ValidationError("--suite-layers \(suiteLayers): it must be >= 0") }
    }

    func run() throws {
        let loads = ExpertLoads.zipf(layers: layers, logicalExperts: experts, exponent: exponent, seed: 2024)
        // One group on one node is eplb.py's global policy (it calls the hierarchical one with 1 and 1).
        let rows = [
            ("hierarchical", ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)),
            ("global", ClusterShape(replicas: replicas, groups: 1, nodes: 1, ranks: ranks)),
        ]
        print("EPLB placement: \(layers) layers x \(experts) experts -> \(replicas) replicas on \(ranks) ranks, "
            + "\(groups) groups, Zipf \(exponent), median of \(repeats) calls")
        print(pad("layout", 14) + pad("policy", 10) + pad("wall ms", 10, right: true) + pad("cpu ms", 10, right: true)
            + pad("max/mean", 10, right: true) + pad("dup", 6, right: true))
        for (name, shape) in rows {
            for policy in ["reference", "balanced"] {
                var placement: Placement?
                var times: [Double] = [], cpuTimes: [Double] = []
                for _ in 0..<repeats {
                    let start = ContinuousClock.now, cpuStart = threadCPUMilliseconds()
                    placement = try place(policy, loads, shape)
                    cpuTimes.append(threadCPUMilliseconds() - cpuStart)
                    times.append(milliseconds(ContinuousClock.now - start))
                }
                let metrics = PlacementMetrics(loads: loads, shape: shape, placement: placement!)
                print(pad(name, 14) + pad(policy, 10) + pad(fmt(median(times), 3), 10, right: true)
                    + pad(fmt(median(cpuTimes), 3), 10, right: true)
                    + pad(fmt(metrics.meanBalance, 3), 10, right: true)
                    + pad("\(metrics.sameRankDuplicates)", 6, right: true))
            }
        }
        try runKeepInPlace(loads, rows)
        if suiteLayers > 0 { try runSuite() }
    }

    /// Loads drift by up to +-20% per expert; the previous placement is balanced's plan for the old loads.
    private func runKeepInPlace(_ before: ExpertLoads, _ rows: [(String, ClusterShape)]) throws {
        var generator = SplitMix64(seed: 77)
        let after = try ExpertLoads(
            layers: before.layers, logicalExperts: before.logicalExperts,
            weight: before.weight.map { ($0 * (0.8 + 0.4 * generator.unit())).rounded() })
        print("\nKeeping experts in place: loads drift by up to 20%; moved = expert weights to fetch, all layers")
        print(pad("layout", 14) + pad("plan", 26) + pad("moved", 8, right: true) + pad("max/mean", 10, right: true)
            + pad("ms", 8, right: true))
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
                let elapsed = milliseconds(ContinuousClock.now - start)
                let metrics = PlacementMetrics(loads: after, shape: shape, placement: placement, previous: previous)
                print(pad(name, 14) + pad(label, 26) + pad("\(metrics.moved ?? 0)", 8, right: true)
                    + pad(fmt(metrics.meanBalance, 3), 10, right: true) + pad(fmt(elapsed, 2), 8, right: true))
            }
        }
    }

    private func runSuite() throws {
        print("\nZipf suite: mean over \(suiteLayers) layers of max/mean rank load; dup = same-rank duplicates")
        print(pad("case", 52) + pad("reference", 11, right: true) + pad("balanced", 10, right: true)
            + pad("ref dup", 9, right: true) + pad("bal dup", 9, right: true))
        var sums = (0.0, 0.0)
        for item in ZipfCase.suite {
            let loads = item.loads(layers: suiteLayers)
            let reference = PlacementMetrics(
                loads: loads, shape: item.shape, placement: try ReferencePolicy.place(loads, item.shape))
            let balanced = PlacementMetrics(
                loads: loads, shape: item.shape, placement: try BalancedPolicy.place(loads, item.shape))
            sums.0 += reference.meanBalance
            sums.1 += balanced.meanBalance
            print(pad(item.description, 52) + pad(fmt(reference.meanBalance, 3), 11, right: true)
                + pad(fmt(balanced.meanBalance, 3), 10, right: true)
                + pad("\(reference.sameRankDuplicates)", 9, right: true)
                + pad("\(balanced.sameRankDuplicates)", 9, right: true))
        }
        let n = Double(ZipfCase.suite.count)
        print(pad("mean over \(ZipfCase.suite.count) cases", 52) + pad(fmt(sums.0 / n, 3), 11, right: true)
            + pad(fmt(sums.1 / n, 3), 10, right: true))
    }

    private func place(_ policy: String, _ loads: ExpertLoads, _ shape: ClusterShape) throws -> Placement {
        policy == "reference" ? try ReferencePolicy.place(loads, shape) : try BalancedPolicy.place(loads, shape)
    }
}

private func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
}

/// CPU time of this thread: unlike wall time it does not count while other processes hold the core.
private func threadCPUMilliseconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) * 1e3 + Double(now.tv_nsec) * 1e-6
}

private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fmt(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
