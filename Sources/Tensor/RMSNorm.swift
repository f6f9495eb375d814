/// RMSNorm kernels: `y = g ⊙ x / rms(x)` per row, `rms(x) = √(mean(x²) + ε)`.

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
                    for r in 0..<x.rows {
                        let xr = px.baseAddress! + r * width, yr = py.baseAddress! + r * width
                        let sum = innerProduct(xr, xr, width)
                        let inv = 1 / (sum / Float(width) + epsilon).squareRoot()
                        pr[r] = inv
                        for j in 0..<width { yr[j] = pg[j] * xr[j] * inv }
                    }
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
                        for r in 0..<x.rows {
                            let xr = px.baseAddress! + r * width, dyr = pdy.baseAddress! + r * width
                            let dxr = pdx.baseAddress! + r * width
                            let inv = pr[r]
                            let inner = innerProduct(pg.baseAddress!, dyr, xr, width)
                            let c = inner * inv * inv / Float(width)
                            for j in 0..<width { dxr[j] = inv * (pg[j] * dyr[j] - xr[j] * c) }
                        }
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
                    for r in 0..<x.rows {
                        let xr = px.baseAddress! + r * width, dyr = pdy.baseAddress! + r * width
                        let inv = pr[r]
                        for j in 0..<width { pg[j] += dyr[j] * xr[j] * inv }
                    }
                }
            }
        }
    }
}
