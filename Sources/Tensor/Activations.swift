#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// GELU, SiLU and the SwiGLU gate, with the derivatives their backward passes need.

/// GELU, exact: `x Φ(x) = 0.5 x (1 + erf(x / √2))`, PyTorch's default `F.gelu` (DeepSeek's
/// DualPipe example block uses it). Φ within 1.5e-7 of its true value (see `normalCDF`).
public func geluExact(_ x: Tensor) -> Tensor {
    var y = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            forEachLanes(px.count, px.baseAddress!, py.baseAddress!) { v in v * normalCDF(v).cdf }
        }
    }
    return y
}

/// Replaces `x` by `geluExact(x)` and returns the derivative `Φ(x) + x φ(x)`, in one pass (they
/// share Φ and the exponential): a layer that keeps the derivative for B needs neither `x` nor a
/// second pass. In place because nothing needs the pre-activation afterwards: GELU then writes
/// over memory the matmul has just filled, and only the derivative goes to a fresh tensor.
public func geluExactInPlaceWithDerivative(_ x: inout Tensor) -> Tensor {
    var d = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeMutableBufferPointer { px in
        d.scalars.withUnsafeMutableBufferPointer { pd in
            let values = px.baseAddress!, derivative = pd.baseAddress!
            let full = px.count & ~15
            var i = 0
            while i < full {
                let (y, d) = geluAndDerivative(load16(values + i))
                store16(y, values + i)
                store16(d, derivative + i)
                i += 16
            }
            if full < px.count { lastGroupOfGELU(px.count - full, values + full, derivative + full) }
        }
    }
    return d
}

@inline(__always)
private func geluAndDerivative(_ v: Float16Lanes) -> (Float16Lanes, Float16Lanes) {
    let (cdf, gaussian) = normalCDF(v)
    return (v * cdf, cdf + v * gaussian * 0.398_942_28)
}

@inline(never)
private func lastGroupOfGELU(_ n: Int, _ values: UnsafeMutablePointer<Float>, _ derivative: UnsafeMutablePointer<Float>) {
    let (y, d) = geluAndDerivative(loadLanes(values, n))
    storeLanes(y, values, n)
    storeLanes(d, derivative, n)
}

/// `dy · geluExact'(x)`, where `geluExact'(x) = Φ(x) + x φ(x)`: the normal CDF and density.
public func geluExactBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "geluExactBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            let d = pd.baseAddress!
            forEachLanes(px.count, px.baseAddress!, d, d) { v, g in
                let (cdf, gaussian) = normalCDF(v)
                return g * (cdf + v * gaussian * 0.398_942_28)
            }
        }
    }
    return dx
}

/// SiLU (swish): `x · σ(x)`.
public func silu(_ x: Tensor) -> Tensor {
    var y = x
    y.scalars.withUnsafeMutableBufferPointer { p in
        let v = p.baseAddress!
        forEachLanes(p.count, v, v) { x in x * logistic(x) }
    }
    return y
}

/// `dy · silu'(x)`, where `silu'(x) = σ(x) (1 + x (1 - σ(x)))`.
public func siluBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "siluBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            let d = pd.baseAddress!
            forEachLanes(pd.count, px.baseAddress!, d, d) { x, g in
                let s = logistic(x)
                return g * s * (1 + x * (1 - s))
            }
        }
    }
    return dx
}

/// The SwiGLU gate. `gateUp` is `[tokens, 2 * width]`, each row the gate half `a` then the up
/// half `b` (one fused matmul produces both). Returns `silu(a) * b`, `[tokens, width]`.
public func swiGLU(_ gateUp: Tensor) -> Tensor {
    let width = gateUp.columns / 2
    precondition(gateUp.columns == 2 * width, "swiGLU needs an even row length, got \(gateUp.columns)")
    var h = Tensor(uninitializedShape: [gateUp.rows, width])
    gateUp.scalars.withUnsafeBufferPointer { pg in
        h.scalars.withUnsafeMutableBufferPointer { ph in
            let g = pg.baseAddress!, o = ph.baseAddress!
            for r in 0..<gateUp.rows {
                let a = g + r * 2 * width, b = a + width, out = o + r * width
                forEachLanes(width, a, b, out) { a, b in a * logistic(a) * b }
            }
        }
    }
    return h
}

/// The gradient of `swiGLU` with respect to `gateUp`, given `dh` (`[tokens, width]`):
/// `da = dh · b · silu'(a)`, `db = dh · silu(a)`, laid out like `gateUp`.
public func swiGLUBackward(_ gateUp: Tensor, outputGradient dh: Tensor) -> Tensor {
    let width = gateUp.columns / 2
    precondition(dh.rows == gateUp.rows && dh.columns == width,
                 "swiGLUBackward: gradient \(dh.shape) does not match gate \(gateUp.shape)")
    var d = Tensor(uninitializedShape: [gateUp.rows, 2 * width])
    gateUp.scalars.withUnsafeBufferPointer { pg in
        dh.scalars.withUnsafeBufferPointer { pdh in
            d.scalars.withUnsafeMutableBufferPointer { pd in
                let g = pg.baseAddress!, dhs = pdh.baseAddress!, out = pd.baseAddress!
                for r in 0..<gateUp.rows {
                    let a = g + r * 2 * width, b = a + width
                    let da = out + r * 2 * width, db = da + width, dhr = dhs + r * width
                    let full = width & ~15
                    var j = 0
                    while j < full {
                        let (dga, dgb) = swiGLUGradients(load16(a + j), load16(b + j), load16(dhr + j))
                        store16(dga, da + j)
                        store16(dgb, db + j)
                        j += 16
                    }
                    if full < width {
                        lastGroupOfSwiGLUBackward(width - full, a + full, b + full, dhr + full, da + full, db + full)
                    }
                }
            }
        }
    }
    return d
}

/// `(dh · b · silu'(a), dh · silu(a))` for 16 lanes.
@inline(__always)
private func swiGLUGradients(_ a: Float16Lanes, _ b: Float16Lanes, _ dh: Float16Lanes) -> (Float16Lanes, Float16Lanes) {
    let s = logistic(a)
    return (b * s * (1 + a * (1 - s)) * dh, dh * a * s)
}

@inline(never)
private func lastGroupOfSwiGLUBackward(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dh: UnsafePointer<Float>,
                                       _ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>) {
    let (dga, dgb) = swiGLUGradients(loadLanes(a, n), loadLanes(b, n), loadLanes(dh, n))
    storeLanes(dga, da, n)
    storeLanes(dgb, db, n)
}

/// `σ(x)` elementwise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var y = x
    y.scalars.withUnsafeMutableBufferPointer { p in
        let v = p.baseAddress!
        forEachLanes(p.count, v, v) { x in logistic(x) }
    }
    return y
}

/// `dy · σ'(x)` from the forward's output `y = σ(x)`: `dy · y (1 - y)`.
public func sigmoidBackward(sigmoidOutput y: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(y.count == dy.count, "sigmoidBackward: \(y.shape) and \(dy.shape) differ in size")
    var dx = dy
    y.scalars.withUnsafeBufferPointer { py in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            let ys = py.baseAddress!, d = pd.baseAddress!
            for i in 0..<pd.count { d[i] *= ys[i] * (1 - ys[i]) }
        }
    }
    return dx
}
