/// The indices of the `k` largest entries of each row of `values` `[rows, columns]`, largest
/// first; equal values go to the lower index, so the choice is deterministic. Entries where
/// `allowed` (same shape, optional) is false are never chosen. Returns `[rows * k]` indices.
public func topK(_ values: Tensor, k: Int, allowed: [Bool]? = nil) -> [Int] {
    let n = values.columns
    precondition(k >= 1 && k <= n, "topK: k = \(k) must be in 1...\(n)")
    if let allowed { precondition(allowed.count == values.count, "topK: mask size \(allowed.count) vs \(values.count)") }
    var result = [Int](repeating: -1, count: values.rows * k)
    values.scalars.withUnsafeBufferPointer { pv in
        for r in 0..<values.rows {
            let row = pv.baseAddress! + r * n
            var chosen = 0
            // k is small (experts per token, groups): an insertion into a sorted prefix is enough.
            for j in 0..<n {
                if let allowed, !allowed[r * n + j] { continue }
                let v = row[j]
                var position = chosen
                while position > 0 && row[result[r * k + position - 1]] < v { position -= 1 }
                if position >= k { continue }
                let last = min(chosen, k - 1)
                var q = last
                while q > position { result[r * k + q] = result[r * k + q - 1]; q -= 1 }
                result[r * k + position] = j
                chosen = min(chosen + 1, k)
            }
            precondition(chosen == k, "topK: row \(r) has only \(chosen) allowed entries, needs \(k)")
        }
    }
    return result
}
