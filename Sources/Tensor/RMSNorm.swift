/// RMSNorm kernels: `y = g ⊙ x / rms(x)` per row, `rms(x) = √(mean(x²) + ε)`, in the C lane
/// kernels (Swift's loops ran four SSE2 lanes wide on every CPU).

/// Forward over `x` `[rows, width]` with gain `g` `[width]`. Returns `y` `[rows, width]` and the
/// per-row `1 / rms` `[rows]` that both backward halves reuse.
public func rmsNorm(_ x: Tensor, gain g: Tensor, epsilon: Float) -> (output: Tensor, inverseRMS: Tensor) {
    let width = x.columns
    precondition(g.count == width, "rmsNorm: gain has \(g.count) elements, rows have \(width)")
    var y = Tensor(uninitializedShape: x.shape)
    var inverse = Tensor(uninitializedShape: [x.rows])
    x.scalars.withUnsafeBufferPointer { px in
        g.scalars.withUnsafeBufferPointer { pg in
            y.scalars.withUnsafeMutableBufferPointer { py in
                inverse.scalars.withUnsafeMutableBufferPointer { pr in
                    LaneKernels.active.rms_norm(px.baseAddress!, pg.baseAddress!, py.baseAddress!, pr.baseAddress!,
                                                x.rows, width, epsilon)
                }
            }
        }
    }
    return (y, inverse)
}

/// B: `∂L/∂x` from `dy`. With `x̂ = x · inv`: `dx = inv · (g ⊙ dy - x̂ · mean(g ⊙ dy ⊙ x̂))`.
public func rmsNormBackwardInput(_ x: Tensor, inverseRMS: Tensor, gain g: Tensor, outputGradient dy: Tensor) -> Tensor {
    let width = x.columns
    precondition(dy.shape == x.shape, "rmsNormBackwardInput: gradient \(dy.shape) vs input \(x.shape)")
    precondition(g.count == width, "rmsNormBackwardInput: gain has \(g.count) elements, rows have \(width)")
    var dx = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        dy.scalars.withUnsafeBufferPointer { pdy in
            g.scalars.withUnsafeBufferPointer { pg in
                inverseRMS.scalars.withUnsafeBufferPointer { pr in
                    dx.scalars.withUnsafeMutableBufferPointer { pdx in
                        LaneKernels.active.rms_norm_backward(px.baseAddress!, pr.baseAddress!, pg.baseAddress!,
                                                             pdy.baseAddress!, pdx.baseAddress!, x.rows, width)
                    }
                }
            }
        }
    }
    return dx
}

/// W: `∂L/∂g += Σ_rows dy ⊙ x · inv`, accumulated into `dg` `[width]`.
public func rmsNormGainGradient(_ x: Tensor, inverseRMS: Tensor, outputGradient dy: Tensor, accumulatingInto dg: inout Tensor) {
    let width = x.columns
    precondition(dg.count == width, "rmsNormGainGradient: gradient has \(dg.count) elements, rows have \(width)")
    precondition(dy.shape == x.shape, "rmsNormGainGradient: gradient \(dy.shape) vs input \(x.shape)")
    x.scalars.withUnsafeBufferPointer { px in
        dy.scalars.withUnsafeBufferPointer { pdy in
            inverseRMS.scalars.withUnsafeBufferPointer { pr in
                dg.scalars.withUnsafeMutableBufferPointer { pg in
                    LaneKernels.active.rms_norm_gain_gradient(px.baseAddress!, pr.baseAddress!, pdy.baseAddress!,
                                                              pg.baseAddress!, x.rows, width)
                }
            }
        }
    }
}
