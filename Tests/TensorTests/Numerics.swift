import Foundation
import Tensor

/// Test helpers: a deterministic random tensor, a naive matmul in Double, and a central
/// finite-difference gradient of a scalar function, all accumulated in Double.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(shape: shape, normalStandardDeviation: std, rng: &rng)
}

/// `op(a) · op(b)` by the textbook triple loop, in Double.
func naiveMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> [Double] {
    let m = transposeA ? a.columns : a.rows, k = transposeA ? a.rows : a.columns
    let n = transposeB ? b.rows : b.columns
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for l in 0..<k {
                let x = transposeA ? a[l, i] : a[i, l]
                let y = transposeB ? b[j, l] : b[l, j]
                sum += Double(x) * Double(y)
            }
            c[i * n + j] = sum
        }
    }
    return c
}

/// The softmax of `row`, in Double: the oracle of the lane kernels' softmaxes.
func softmaxInDouble(_ row: [Double]) -> [Double] {
    let m = row.max()!
    let e = row.map { Foundation.exp($0 - m) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}

/// `Σ w ⊙ y` in Double: turns a tensor output into the scalar a gradient check differentiates.
func projection(_ y: Tensor, _ w: Tensor) -> Double { dot(y, w) }

/// Central differences `(f(x + ε eᵢ) - f(x - ε eᵢ)) / 2ε` for every element of `x`.
///
/// ε = 1e-2 balances the two errors of a float32 forward: rounding in f is ~1e-7 relative, so
/// for f = O(1) it contributes ~1e-6 / 2ε ≈ 5e-5 to each derivative; truncation is ε²/6 · f''',
/// ≈ 2e-5 for the smooth O(1) kernels here. Checks therefore allow 1e-3 absolute plus 1e-2
/// relative, well above both and far below any real mistake (a wrong sign or a missing term
/// changes a derivative by O(1)).
func finiteDifferenceGradient(at x: Tensor, epsilon: Float = 1e-2, _ f: (Tensor) -> Double) -> [Double] {
    var gradient = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        var plus = x, minus = x
        plus.scalars[i] += epsilon
        minus.scalars[i] -= epsilon
        let h = Double(plus.scalars[i]) - Double(minus.scalars[i])  // the step float32 really took
        gradient[i] = (f(plus) - f(minus)) / h
    }
    return gradient
}

/// Whether `analytic` matches `numeric` within `absolute + relative · |numeric|` everywhere.
func gradientsAgree(_ analytic: [Float], _ numeric: [Double], absolute: Double = 1e-3, relative: Double = 1e-2) -> Bool {
    guard analytic.count == numeric.count else { return false }
    return zip(analytic, numeric).allSatisfy { abs(Double($0) - $1) <= absolute + relative * abs($1) }
}
