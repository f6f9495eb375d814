#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Causal masked softmax over attention scores `[count, T, T]` (`count` = sequences × heads):
/// row `i` of each `[T, T]` matrix becomes `softmax(scale · s[i, 0...i])`, and the masked
/// entries `j > i` become exactly 0 (so `P · V` never sees the future).
public func causalSoftmax(_ scores: inout Tensor, scale: Float) {
    let t = scores.columns
    precondition(scores.count % (t * t) == 0, "causalSoftmax needs [count, T, T], got \(scores.shape)")
    scores.scalars.withUnsafeMutableBufferPointer { p in
        let base = p.baseAddress!
        for r in 0..<(p.count / t) {
            let i = r % t
            let row = base + r * t
            var maximum = -Float.infinity
            for j in 0...i { maximum = max(maximum, row[j] * scale) }
            forEachLanes(i + 1, row, row) { v in exponential(v * scale - maximum) }
            var sum: Float = 0
            for j in 0...i { sum += row[j] }
            let inverse = 1 / sum
            for j in 0...i { row[j] *= inverse }
            for j in (i + 1)..<t { row[j] = 0 }
        }
    }
}

/// The gradient of `causalSoftmax` with respect to its (unscaled) scores, from the probabilities
/// `p` it returned and `dp = ∂L/∂p`: `ds[i, j] = scale · p[i, j] (dp[i, j] - Σ_k p[i, k] dp[i, k])`.
/// Masked entries get 0.
public func causalSoftmaxBackward(probabilities p: Tensor, outputGradient dp: Tensor, scale: Float) -> Tensor {
    precondition(p.shape == dp.shape, "causalSoftmaxBackward: \(p.shape) and \(dp.shape) differ")
    let t = p.columns
    var ds = dp
    p.scalars.withUnsafeBufferPointer { pp in
        ds.scalars.withUnsafeMutableBufferPointer { pd in
            for r in 0..<(pp.count / t) {
                let i = r % t
                let prow = pp.baseAddress! + r * t, drow = pd.baseAddress! + r * t
                var inner: Float = 0
                for j in 0...i { inner += prow[j] * drow[j] }
                for j in 0...i { drow[j] = scale * prow[j] * (drow[j] - inner) }
                for j in (i + 1)..<t { drow[j] = 0 }
            }
        }
    }
    return ds
}

/// Softmax of each row of a `[rows, columns]` matrix (the softmax router scores).
public func softmaxRows(_ x: Tensor) -> Tensor {
    var y = x
    let n = x.columns
    y.scalars.withUnsafeMutableBufferPointer { p in
        for r in 0..<x.rows {
            let row = p.baseAddress! + r * n
            var maximum = -Float.infinity
            for j in 0..<n { maximum = max(maximum, row[j]) }
            var sum: Float = 0
            forEachLanes(n, row, row) { v in exponential(v - maximum) }
            for j in 0..<n { sum += row[j] }
            let inverse = 1 / sum
            for j in 0..<n { row[j] *= inverse }
        }
    }
    return y
}

/// The gradient of `softmaxRows`: `dx[r, j] = p[r, j] (dp[r, j] - Σ_k p[r, k] dp[r, k])`.
public func softmaxRowsBackward(probabilities p: Tensor, outputGradient dp: Tensor) -> Tensor {
    precondition(p.shape == dp.shape, "softmaxRowsBackward: \(p.shape) and \(dp.shape) differ")
    var dx = dp
    let n = p.columns
    p.scalars.withUnsafeBufferPointer { pp in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            for r in 0..<p.rows {
                let prow = pp.baseAddress! + r * n, drow = pd.baseAddress! + r * n
                var inner: Float = 0
                for j in 0..<n { inner += prow[j] * drow[j] }
                for j in 0..<n { drow[j] = prow[j] * (drow[j] - inner) }
            }
        }
    }
    return dx
}
