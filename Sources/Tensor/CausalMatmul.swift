import CLaneKernels

/// Which part of a causal attention product each row needs. A dense sgemm computes the masked
/// half too: scores above the diagonal that the softmax then throws away, and products with the
/// probabilities' zeros.
public enum CausalProductShape: Sendable {
    /// `Q·Kᵀ` and `dO·Vᵀ`: row `i` needs columns `0...i`; the causal softmax masks the rest.
    case columnsToRow
    /// `P·V` and `dS·K`: row `i` of `op(a)` is 0 past column `i`.
    case termsToRow
    /// `Pᵀ·dO` and `dSᵀ·Q`: row `i` of `op(a)` is 0 before column `i`.
    case termsFromRow

    var c: dp_causal_shape {
        switch self {
        case .columnsToRow: DP_CAUSAL_COLUMNS_TO_ROW
        case .termsToRow: DP_CAUSAL_TERMS_TO_ROW
        case .termsFromRow: DP_CAUSAL_TERMS_FROM_ROW
        }
    }
}

/// `batchedMatmul` for causal attention (alpha 1, beta 0): for each `i`,
/// `c[cViews[i]] = op(a[aViews[i]]) · op(b[bViews[i]])`, computing only what `shape` says a row
/// needs, with the lane kernels instead of sgemm (sgemm at these sizes, `[T, T] · [T, headDim]`,
/// runs at half its large-matrix speed, and would do the masked half too). With the baseline
/// lane kernels (four SSE2 lanes, no FMA) it is sgemm after all: there the kernels took 1.6 to
/// 2.1 times sgemm's time (`bench model --attention`), where AVX2 took 0.9 and AVX-512 0.5 to 0.6.
///
/// `.termsToRow` and `.termsFromRow` need `op(a)` to be causal, zero on the masked side of the
/// diagonal, as the causal softmax's probabilities and gradients are: a row may take a few terms
/// past its own range, which then add zero. With `.columnsToRow`, row `i` of each `c` view is
/// written through column `min(n, roundUp(i + 1, 16)) - 1`, all that `causalSoftmax` and its
/// backward read, and may be left unwritten past that.
public func causalBatchedMatmul(
    _ a: Tensor, _ aViews: [MatrixView], transposeA: Bool = false,
    _ b: Tensor, _ bViews: [MatrixView], transposeB: Bool = false,
    into c: inout Tensor, _ cViews: [MatrixView], shape: CausalProductShape
) {
    let kernels = LaneKernels.active
    guard LaneKernels.name != "generic" else {
        batchedMatmul(a, aViews, transposeA: transposeA, b, bViews, transposeB: transposeB, into: &c, cViews)
        return
    }
    // op(b) as the kernel reads it, [k, n] row by row: bᵀ is packed here once per view.
    var packed = [Float]()
    forEachViewProduct(a, aViews, transposeA: transposeA, b, bViews, transposeB: transposeB, into: &c, cViews,
                       "causalBatchedMatmul") { x in
        guard x.m > 0 && x.n > 0 else { return }
        let (aRow, aColumn) = transposeA ? (1, x.aView.rowStride) : (x.aView.rowStride, 1)
        if transposeB {
            if packed.count < x.k * x.n { packed = [Float](repeating: 0, count: x.k * x.n) }
            packed.withUnsafeMutableBufferPointer { pk in
                kernels.transpose(x.b, x.bView.rowStride, pk.baseAddress!, x.n, x.n, x.k)
                kernels.causal_product(x.a, aRow, aColumn, pk.baseAddress!, x.n, x.c, x.cView.rowStride,
                                       x.m, x.n, x.k, shape.c)
            }
        } else {
            kernels.causal_product(x.a, aRow, aColumn, x.b, x.bView.rowStride, x.c, x.cView.rowStride,
                                   x.m, x.n, x.k, shape.c)
        }
    }
}
