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
            _ = softmaxInPlace(row, i + 1, scale: scale)
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
                let inner = innerProduct(prow, drow, i + 1)
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
            _ = softmaxInPlace(row, n, scale: 1)
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
                let inner = innerProduct(prow, drow, n)
                for j in 0..<n { drow[j] = prow[j] * (drow[j] - inner) }
            }
        }
    }
    return dx
}

/// Replaces `row[0..<n]` by `softmax(scale · row)` and returns `max(scale · row)` and the sum of
/// the exponentials before they were normalised. `scale` > 0 (so the maximum of the scaled row is
/// the scaled maximum). Sixteen lanes at a time, the max and the sum in sixteen running partials,
/// so that no add or max waits on the one before it.
@inline(__always) @usableFromInline
func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, _ n: Int, scale: Float) -> (maximum: Float, sum: Float) {
    let full = n & ~15
    var lanesMaximum = Float16Lanes(repeating: -.infinity)
    var j = 0
    while j < full {
        let v = load16(row + j)
        lanesMaximum = lanesMaximum.replacing(with: v, where: v .> lanesMaximum)
        j += 16
    }
    var maximum = lanesMaximum.max()
    for k in full..<n { maximum = max(maximum, row[k]) }
    maximum *= scale
    var lanesSum = Float16Lanes()
    j = 0
    while j < full {
        let e = exponential(load16(row + j) * scale - maximum)
        store16(e, row + j)
        lanesSum += e
        j += 16
    }
    var sum = lanesSum.sum()
    if full < n { sum += lastExponentials(n - full, row + full, scale: scale, maximum: maximum) }
    let inverse = 1 / sum
    j = 0
    while j < full {
        store16(load16(row + j) * inverse, row + j)
        j += 16
    }
    for k in full..<n { row[k] *= inverse }
    return (maximum, sum)
}

/// The last, partial group of `softmaxInPlace`'s exponentials (out of line, as in VectorMath),
/// and their sum.
@inline(never) @usableFromInline
func lastExponentials(_ n: Int, _ row: UnsafeMutablePointer<Float>, scale: Float, maximum: Float) -> Float {
    storeLanes(exponential(loadLanes(row, n) * scale - maximum), row, n)
    var sum: Float = 0
    for k in 0..<n { sum += row[k] }
    return sum
}
