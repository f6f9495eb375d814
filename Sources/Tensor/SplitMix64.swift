#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A small seeded random number generator (SplitMix64, Steele, Lea and Flood 2014): the same
/// seed gives the same sequence on every machine, which is what deterministic initialisation and
/// data sampling need. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named stream below `seed`: the same (seed, streams) always gives the
    /// same generator, and different stream paths give unrelated ones. Parameters are initialised
    /// per (layer, tensor, expert) stream so that any subset of the model (a pipeline stage, the
    /// experts of one rank) is initialised exactly as in the whole model.
    public init(seed: UInt64, streams: [UInt64]) {
        var root = SplitMix64(seed: seed)
        var mixed = root.next()
        for s in streams {
            var g = SplitMix64(seed: mixed ^ (s &* 0xD1B5_4A32_D192_ED03))
            mixed = g.next()
        }
        state = mixed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in `0 ..< bound`; `bound` must be positive.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        // Lemire's multiply-shift: unbiased enough for bounds far below 2^64, and portable.
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Standard normal by Box-Muller (one draw per call; the second value is dropped to keep
    /// the generator a plain value with no cached state).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2 * log(max(u1, 1e-300))).squareRoot()
        return Float(radius * cos(2 * Double.pi * u2))
    }
}
