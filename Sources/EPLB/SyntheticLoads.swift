import Foundation

/// SplitMix64: a tiny, fully specified generator, so that a seed gives the same loads on every platform.
///
/// Internal on purpose: Tensor has a public generator of the same name, and a file that imports both modules
/// (as the command-line program does) must not see two. Other modules reach it through `zipf` and `drifted`.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

extension ExpertLoads {
    /// Skewed loads like real routers produce: in each layer the expert of popularity rank i (1-based) gets
    /// tokens proportional to i^-exponent times a uniform factor in [0.8, 1.2]; ranks are shuffled over the
    /// expert ids, and loads are whole token counts out of `tokens` per layer.
    ///
    /// Needs positive `layers` and `logicalExperts` within `EPLBLimits.slots` loads, and a finite
    /// `exponent` in 0...10 (beyond it the powers overflow); the command line checks these first.
    public static func zipf(
        layers: Int, logicalExperts: Int, exponent: Double, seed: UInt64, tokens: Double = 1_000_000
    ) -> ExpertLoads {
        precondition(exponent.isFinite && (0...10).contains(exponent), "zipf needs a finite exponent in 0...10, got \(exponent)")
        precondition(layers > 0 && logicalExperts > 0 && layers <= EPLBLimits.slots / logicalExperts,
                     "zipf needs 1...\(EPLBLimits.slots) loads, got \(layers) layers x \(logicalExperts) experts")
        var generator = SplitMix64(seed: seed)
        var weight: [Double] = []  // [layers, logicalExperts]
        weight.reserveCapacity(layers * logicalExperts)
        for _ in 0..<layers {
            var row = (1...logicalExperts).map { rank in
                (0.8 + 0.4 * generator.unit()) / pow(Double(rank), exponent)
            }
            // Fisher-Yates with our own generator, so the order does not depend on the standard library.
            for i in stride(from: logicalExperts - 1, to: 0, by: -1) {
                let j = Int(generator.next() % UInt64(i + 1))
                row.swapAt(i, j)
            }
            let total = row.reduce(0, +)
            weight.append(contentsOf: row.map { ($0 / total * tokens).rounded() })
        }
        return try! ExpertLoads(layers: layers, logicalExperts: logicalExperts, weight: weight)
    }

    /// These loads drifted: each load times a factor drawn uniformly in [1 - fraction, 1 + fraction] (SplitMix64
    /// from `seed`, one draw per load in index order), rounded to a whole token count. `fraction` is in [0, 1].
    public func drifted(by fraction: Double, seed: UInt64) -> ExpertLoads {
        precondition((0...1).contains(fraction), "drifted(by:) needs a fraction in [0, 1], got \(fraction)")
        var generator = SplitMix64(seed: seed)
        let low = 1 - fraction, width = 2 * fraction
        return try! ExpertLoads(
            layers: layers, logicalExperts: logicalExperts,
            weight: weight.map { ($0 * (low + width * generator.unit())).rounded() })
    }
}
