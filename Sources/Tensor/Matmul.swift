/// The matmul family, every member one `cblas_sgemm`. Operands are seen as matrices:
/// `[rows, columns]` with leading dimensions folded (see `Tensor.rows`).

/// `op(a) · op(b)`: `op(a)` is `[m, k]` (`a` is `[k, m]` when `transposeA`), `op(b)` is `[k, n]`
/// (`b` is `[n, k]` when `transposeB`). Result `[m, n]`.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let m = transposeA ? a.columns : a.rows
    let n = transposeB ? b.rows : b.columns
    var c = Tensor(uninitializedShape: [m, n])  // beta = 0: sgemm writes every element
    matmul(a, b, transposeA: transposeA, transposeB: transposeB, accumulatingInto: &c, beta: 0)
    return c
}

/// `c = alpha · op(a) · op(b) + beta · c` into an existing `[m, n]` result; with the default
/// `beta = 1` it accumulates (how weight gradients add up over micro-batches).
public func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
    accumulatingInto c: inout Tensor, alpha: Float = 1, beta: Float = 1
) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kb = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    precondition(k == kb, "matmul inner dimensions differ: op(a) is [\(m), \(k)], op(b) is [\(kb), \(n)]")
    precondition(c.rows == m && c.columns == n, "matmul result is \(c.shape), expected [\(m), \(n)]")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { c.zero() } else if beta != 1 { scale(&c, by: beta) }
        return
    }
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           alpha: alpha, a: pa.baseAddress!, b: pb.baseAddress!,
                           beta: beta, c: pc.baseAddress!)
            }
        }
    }
}

/// A matrix inside a tensor's storage: `rows × columns` elements starting at `offset`, with
/// consecutive rows `rowStride` elements apart. Per-head views of attention activations are
/// `MatrixView`s into `[tokens, heads * headDim]` tensors.
public struct MatrixView: Sendable, Equatable {
    public var offset: Int
    public var rows: Int
    public var columns: Int
    public var rowStride: Int

    public init(offset: Int, rows: Int, columns: Int, rowStride: Int) {
        self.offset = offset; self.rows = rows; self.columns = columns; self.rowStride = rowStride
    }

    /// The `[sequenceLength, headDim]` view of each (sequence, head) pair, sequence-major, in a
    /// `[sequences * sequenceLength, rowStride]` tensor whose head `h` starts at column
    /// `columnOffset + h * headDim`.
    public static func heads(
        sequences: Int, sequenceLength: Int, heads: Int, headDim: Int,
        rowStride: Int, columnOffset: Int = 0
    ) -> [MatrixView] {
        var views: [MatrixView] = []
        views.reserveCapacity(sequences * heads)
        for s in 0..<sequences {
            for h in 0..<heads {
                views.append(MatrixView(offset: s * sequenceLength * rowStride + columnOffset + h * headDim,
                                        rows: sequenceLength, columns: headDim, rowStride: rowStride))
            }
        }
        return views
    }

    /// `count` dense `[rows, columns]` matrices stored one after another (`[count, rows, columns]`).
    public static func stacked(count: Int, rows: Int, columns: Int) -> [MatrixView] {
        (0..<count).map { MatrixView(offset: $0 * rows * columns, rows: rows, columns: columns, rowStride: columns) }
    }
}

/// Per-head batches: for each `i`, `c[cViews[i]] = alpha · op(a[aViews[i]]) · op(b[bViews[i]]) + beta · c[cViews[i]]`.
/// The views may interleave (heads side by side in one row) but the `c` views must not overlap.
public func batchedMatmul(
    _ a: Tensor, _ aViews: [MatrixView], transposeA: Bool = false,
    _ b: Tensor, _ bViews: [MatrixView], transposeB: Bool = false,
    into c: inout Tensor, _ cViews: [MatrixView], alpha: Float = 1, beta: Float = 0
) {
    forEachViewProduct(a, aViews, transposeA: transposeA, b, bViews, transposeB: transposeB, into: &c, cViews,
                       "batchedMatmul") { product in
        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: product.m, n: product.n, k: product.k,
                   alpha: alpha, a: product.a, lda: product.aView.rowStride, b: product.b, ldb: product.bView.rowStride,
                   beta: beta, c: product.c, ldc: product.cView.rowStride)
    }
}

/// One view's product `op(a) · op(b)` as `forEachViewProduct` hands it over: `op(a)` is
/// `[m, k]`, `op(b)` `[k, n]`, and the pointers are at each view's first element.
struct ViewProduct {
    var m, n, k: Int
    var aView, bView, cView: MatrixView
    var a, b: UnsafePointer<Float>
    var c: UnsafeMutablePointer<Float>
}

/// The per-view products of a batched matmul, each view checked to chain and to lie inside its
/// tensor (`caller` names the function in the message).
func forEachViewProduct(
    _ a: Tensor, _ aViews: [MatrixView], transposeA: Bool,
    _ b: Tensor, _ bViews: [MatrixView], transposeB: Bool,
    into c: inout Tensor, _ cViews: [MatrixView], _ caller: String, _ body: (ViewProduct) -> Void
) {
    precondition(aViews.count == bViews.count && bViews.count == cViews.count,
                 "\(caller) needs as many views of a, b and c: \(aViews.count), \(bViews.count), \(cViews.count)")
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                for i in aViews.indices {
                    let av = aViews[i], bv = bViews[i], cv = cViews[i]
                    let m = transposeA ? av.columns : av.rows
                    let k = transposeA ? av.rows : av.columns
                    let n = transposeB ? bv.rows : bv.columns
                    precondition((transposeB ? bv.columns : bv.rows) == k && cv.rows == m && cv.columns == n,
                                 "\(caller) view \(i): shapes do not chain")
                    precondition(av.offset + (av.rows - 1) * av.rowStride + av.columns <= pa.count
                                 && bv.offset + (bv.rows - 1) * bv.rowStride + bv.columns <= pb.count
                                 && cv.offset + (cv.rows - 1) * cv.rowStride + cv.columns <= pc.count,
                                 "\(caller) view \(i) runs past its tensor")
                    body(ViewProduct(m: m, n: n, k: k, aView: av, bView: bv, cView: cv, a: pa.baseAddress! + av.offset,
                                     b: pb.baseAddress! + bv.offset, c: pc.baseAddress! + cv.offset))
                }
            }
        }
    }
}
