/// Row gathers and scatters: how MoE moves token rows to expert batches and back.

/// Rows `rows[i]` of `x` `[n, width]`, stacked: `[rows.count, width]`, each scaled by
/// `weights[i]` when given.
public func gatherRows(_ x: Tensor, _ rows: [Int], weights: [Float]? = nil) -> Tensor {
    let width = x.columns
    if let weights { precondition(weights.count == rows.count, "gatherRows: \(weights.count) weights for \(rows.count) rows") }
    var y = Tensor(uninitializedShape: [rows.count, width])
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            for (i, r) in rows.enumerated() {
                precondition(r >= 0 && r < x.rows, "gatherRows: row \(r) outside 0..<\(x.rows)")
                let src = px.baseAddress! + r * width, dst = py.baseAddress! + i * width
                let w = weights?[i] ?? 1
                for j in 0..<width { dst[j] = w * src[j] }
            }
        }
    }
    return y
}

/// Rows `range` of `x` `[n, width]`, copied out: `[range.count, width]`.
public func rows(_ range: Range<Int>, of x: Tensor) -> Tensor {
    precondition(range.lowerBound >= 0 && range.upperBound <= x.rows, "rows: \(range) outside 0..<\(x.rows)")
    let width = x.columns
    return Tensor(shape: [range.count, width], scalars: Array(x.scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
}

/// Writes the rows of `x` `[m, width]` over rows `start..<start + m` of `y`.
public func setRows(startingAt start: Int, of y: inout Tensor, to x: Tensor) {
    precondition(x.columns == y.columns && start >= 0 && start + x.rows <= y.rows,
                 "setRows: \(x.shape) at row \(start) of \(y.shape)")
    let width = y.columns
    y.scalars.replaceSubrange((start * width)..<((start + x.rows) * width), with: x.scalars)
}

/// `y[rows[i]] += weights[i] · x[i]` for every row `i` of `x` (`weights` nil means all 1).
public func scatterAddRows(_ x: Tensor, _ rows: [Int], weights: [Float]? = nil, into y: inout Tensor) {
    let width = x.columns
    precondition(y.columns == width && rows.count == x.rows, "scatterAddRows: \(x.shape) rows into \(y.shape) with \(rows.count) indices")
    let yRows = y.rows
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            for (i, r) in rows.enumerated() {
                precondition(r >= 0 && r < yRows, "scatterAddRows: row \(r) outside 0..<\(yRows)")
                let w = weights?[i] ?? 1
                let src = px.baseAddress! + i * width, dst = py.baseAddress! + r * width
                for j in 0..<width { dst[j] += w * src[j] }
            }
        }
    }
}

/// `Σ_j a[aRows[i], j] · b[i, j]` for each row `i` of `b`: the gradient of a gate that scaled row `i`.
public func rowDots(_ a: Tensor, rows aRows: [Int], _ b: Tensor) -> [Float] {
    let width = b.columns
    precondition(a.columns == width && aRows.count == b.rows, "rowDots: \(a.shape) vs \(b.shape)")
    precondition(aRows.allSatisfy { (0..<a.rows).contains($0) }, "rowDots: a row index is outside 0..<\(a.rows)")
    var out = [Float](repeating: 0, count: b.rows)
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            for i in 0..<b.rows {
                let x = pa.baseAddress! + aRows[i] * width, y = pb.baseAddress! + i * width
                out[i] = innerProduct(x, y, width)
            }
        }
    }
    return out
}
