/// Causal masked softmax over attention scores `[count, T, T]` (`count` = sequences × heads):
/// row `i` of each `[T, T]` matrix becomes `softmax(scale · s[i, 0...i])`, and the masked
/// entries `j > i` become exactly 0 (so `P · V` never sees the future).
public func causalSoftmax(_ scores: inout Tensor, scale: Float) {
    let t = scores.columns
    precondition(scores.count % (t * t) == 0, "causalSoftmax needs [count, T, T], got \(scores.shape)")
    scores.scalars.withUnsafeMutableBufferPointer { p in
        LaneKernels.active.causal_softmax(p.baseAddress!, p.count / (t * t), t, scale)
    }
}

/// The gradient of `causalSoftmax` with respect to its (unscaled) scores, from the probabilities
/// `p` it returned and `dp = ∂L/∂p`: `ds[i, j] = scale · p[i, j] (dp[i, j] - Σ_k p[i, k] dp[i, k])`.
/// Masked entries get 0. Computed in `dp`'s storage when the caller hands over its last copy.
public func causalSoftmaxBackward(probabilities p: Tensor, outputGradient dp: consuming Tensor, scale: Float) -> Tensor {
    precondition(p.shape == dp.shape, "causalSoftmaxBackward: \(p.shape) and \(dp.shape) differ")
    let t = p.columns
    var ds = dp
    p.scalars.withUnsafeBufferPointer { pp in
        ds.scalars.withUnsafeMutableBufferPointer { pd in
            LaneKernels.active.causal_softmax_backward(pp.baseAddress!, pd.baseAddress!, pp.count / (t * t), t, scale)
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
                LaneKernels.active.softmax_backward(pp.baseAddress! + r * n, pd.baseAddress! + r * n, n, 1)
            }
        }
    }
    return dx
}

/// Replaces `row[0..<n]` by `softmax(scale · row)` and returns `max(scale · row)` and the sum of
/// the exponentials before they were normalised. `scale` > 0 (so the maximum of the scaled row is
/// the scaled maximum), `n` >= 1.
@inline(__always) @usableFromInline
func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, _ n: Int, scale: Float) -> (maximum: Float, sum: Float) {
    var maximum: Float = 0
    let sum = LaneKernels.active.softmax(row, n, scale, &maximum)
    return (maximum, sum)
}
