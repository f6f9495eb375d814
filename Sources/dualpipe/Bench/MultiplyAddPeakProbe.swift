import Tensor

/// Times the lane kernels' independent multiply-add chains: the most GFLOP/s one core gives in
/// the widest lanes it runs, the roofline beside which `bench blas` puts sgemm. No memory is
/// touched, so nothing but the core's clock and its multiply-add units sets it.
enum MultiplyAddPeakProbe {
    /// Best GFLOP/s over repetitions of about 5 ms each, repeating for about `seconds`.
    static func gflops(seconds: Double = 0.5) -> Double {
        let chains = LaneKernels.peakChains
        // 2 · chains FLOP an iteration: 5 ms at 100 GFLOP/s on AVX2's 96 chains.
        let iterations = max(1, 500_000_000 / (2 * chains))
        let flops = 2 * Double(chains) * Double(iterations)
        var sink: Float = 0
        // a just below 1 keeps every chain finite and normal however long it runs.
        let best = fastestRepetition(over: seconds) { sink += LaneKernels.multiplyAddChains(iterations: iterations, a: 0.999_999, b: 1e-7) }
        precondition(sink.isFinite, "the multiply-add chains overflowed: \(sink)")
        return flops / best / 1e9
    }
}
