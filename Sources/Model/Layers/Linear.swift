import Tensor

/// `y = x · w` with `w` `[input, output]` and no bias. Not a `Layer` itself: the layers that use
/// it keep its inputs in their own contexts and call these three pieces.
enum Linear {
    /// F: `[tokens, input] · [input, output]`.
    static func forward(_ x: Tensor, _ w: Parameter) -> Tensor {
        matmul(x, w.value)
    }

    /// B: `dx = dy · wᵀ`.
    static func backwardInput(_ dy: Tensor, _ w: Parameter) -> Tensor {
        matmul(dy, w.value, transposeB: true)
    }

    /// W: `dw += xᵀ · dy`.
    static func backwardWeight(_ x: Tensor, _ dy: Tensor, _ w: inout Parameter) {
        matmul(x, dy, transposeA: true, accumulatingInto: &w.gradient)
    }
}
