// GELU, SiLU and the SwiGLU gate, with the derivatives their backward passes need.

/// GELU, exact: `x Φ(x) = 0.5 x (1 + erf(x / √2))`, PyTorch's default `F.gelu` (DeepSeek's
/// DualPipe example block uses it). Φ within 1.5e-7 of its true value (Abramowitz and Stegun
/// 7.1.26, in CLaneKernels).
public func geluExact(_ x: Tensor) -> Tensor {
    var y = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            LaneKernels.active.gelu(px.baseAddress!, py.baseAddress!, px.count)
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
            LaneKernels.active.gelu_with_derivative(px.baseAddress!, pd.baseAddress!, px.count)
        }
    }
    return d
}

/// `dy · geluExact'(x)`, where `geluExact'(x) = Φ(x) + x φ(x)`: the normal CDF and density.
public func geluExactBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "geluExactBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            LaneKernels.active.gelu_backward(px.baseAddress!, pd.baseAddress!, px.count)
        }
    }
    return dx
}

/// SiLU (swish): `x · σ(x)`.
public func silu(_ x: Tensor) -> Tensor {
    var y = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            LaneKernels.active.silu(px.baseAddress!, py.baseAddress!, px.count)
        }
    }
    return y
}

/// `dy · silu'(x)`, where `silu'(x) = σ(x) (1 + x (1 - σ(x)))`.
public func siluBackward(_ x: Tensor, outputGradient dy: Tensor) -> Tensor {
    precondition(x.count == dy.count, "siluBackward: \(x.shape) and \(dy.shape) differ in size")
    var dx = dy
    x.scalars.withUnsafeBufferPointer { px in
        dx.scalars.withUnsafeMutableBufferPointer { pd in
            LaneKernels.active.silu_backward(px.baseAddress!, pd.baseAddress!, px.count)
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
                let a = g + r * 2 * width
                LaneKernels.active.swiglu(a, a + width, o + r * width, width)
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
                    let a = g + r * 2 * width, da = out + r * 2 * width
                    LaneKernels.active.swiglu_backward(a, a + width, dhs + r * width, da, da + width, width)
                }
            }
        }
    }
    return d
}

/// `σ(x)` elementwise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var y = Tensor(uninitializedShape: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            LaneKernels.active.sigmoid(px.baseAddress!, py.baseAddress!, px.count)
        }
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
