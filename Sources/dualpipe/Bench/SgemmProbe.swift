import Tensor

/// Times OpenBLAS sgemm on square `n × n` matrices in the current thread setting: the yardstick
/// `bench blas` prints and `bench model` compares the model's achieved GFLOP/s against.
enum SgemmProbe {
    /// Best GFLOP/s of repeated `n × n × n` products, repeating for about `seconds`.
    static func gflops(n: Int, seconds: Double = 0.5) -> Double {
        var rng = SplitMix64(seed: UInt64(n))
        let a = Tensor(shape: [n, n], normalStandardDeviation: 1, rng: &rng)
        let b = Tensor(shape: [n, n], normalStandardDeviation: 1, rng: &rng)
        var c = Tensor(shape: [n, n])
        matmul(a, b, accumulatingInto: &c, beta: 0)  // warm-up: page in, pick kernels
        let flops = 2 * Double(n) * Double(n) * Double(n)
        let best = fastestRepetition(over: seconds) { matmul(a, b, accumulatingInto: &c, beta: 0) }
        return flops / best / 1e9
    }
}
