#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// GELU, SiLU and the SwiGLU gate, with the derivatives their backward passes need.

@inline(__always) @usableFromInline
func sigmoidScalar(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// GELU, tanh approximation: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
public func gelu(_ x: Tensor) -> Tensor {
    var y = x
    y.scalars.withUnsafeMutableBufferPointer { p in
        let v = p.baseAddress!
        for i in 0..<p.count {
            let t = v[i]
            let u = 0.797_884_56 * (t + 0.044715 * t * t * t)
            v[i] = 0.5 * t * (1 + tanhf(u))
        }
    }
    return y
}

/// `dy · gelu'(x)`.
public func geluBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "geluBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            let xs = px.baseAddress!, d = pd.baseAddress!
            for i in 0..<pd.count {
                let t = xs[i]
                let u = 0.797_884_56 * (t + 0.044715 * t * t * t)
                let th = tanhf(u)
                let du = 0.797_884_56 * (1 + 3 * 0.044715 * t * t)
                d[i] *= 0.5 * (1 + th) + 0.5 * t * (1 - th * th) * du
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
        for i in 0..<p.count { v[i] = v[i] * sigmoidScalar(v[i]) }
    }
    return y
}

/// `dy · silu'(x)`, where `silu'(x) = σ(x) (1 + x (1 - σ(x)))`.
public func siluBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "siluBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            let xs = px.baseAddress!, d = pd.baseAddress!
            for i in 0..<pd.count {
                let s = sigmoidScalar(xs[i])
                d[i] *= s * (1 + xs[i] * (1 - s))
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
                for j in 0..<width { out[j] = a[j] * sigmoidScalar(a[j]) * b[j] }
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
                    for j in 0..<width {
                        let s = sigmoidScalar(a[j])
                        da[j] = dhr[j] * b[j] * s * (1 + a[j] * (1 - s))
                        db[j] = dhr[j] * a[j] * s
                    }
                }
            }
        }
    }
    return d
}

/// `σ(x)` elementwise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var y = x
    y.scalars.withUnsafeMutableBufferPointer { p in
        let v = p.baseAddress!
        for i in 0..<p.count { v[i] = sigmoidScalar(v[i]) }
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
