#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Mean cross-entropy of `logits` `[tokens, vocabulary]` against `targets` `[tokens]`.
/// Returns the loss and the softmax probabilities (kept for the gradient), computed in `logits`'
/// storage when the caller hands over its last copy.
public func crossEntropy(logits: consuming Tensor, targets: [Int]) -> (loss: Float, probabilities: Tensor) {
    let n = logits.rows, v = logits.columns
    precondition(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows of logits")
    var p = logits
    var total = 0.0
    p.scalars.withUnsafeMutableBufferPointer { pp in
        for r in 0..<n {
            let t = targets[r]
            precondition(t >= 0 && t < v, "crossEntropy: target \(t) outside the vocabulary 0..<\(v)")
            let row = pp.baseAddress! + r * v
            let target = row[t]
            let (maximum, sum) = softmaxInPlace(row, v, scale: 1)
            // -log softmax[t] = log Σ exp(l - max) - (l_t - max), without taking log of a tiny p.
            total += Double(logf(sum) - (target - maximum))
        }
    }
    return (Float(total / Double(max(n, 1))), p)
}

/// `∂(scale · loss)/∂logits = scale · (p - onehot(target)) / tokens`, computed in `p`'s storage
/// when the caller hands over its last copy.
public func crossEntropyGradient(probabilities p: consuming Tensor, targets: [Int], scale: Float) -> Tensor {
    let n = p.rows, v = p.columns
    precondition(targets.count == n, "crossEntropyGradient: \(targets.count) targets for \(n) rows")
    precondition(targets.allSatisfy { (0..<v).contains($0) }, "crossEntropyGradient: a target is outside the vocabulary 0..<\(v)")
    var d = p
    let factor = scale / Float(max(n, 1))
    d.scalars.withUnsafeMutableBufferPointer { pd in
        for r in 0..<n {
            let row = pd.baseAddress! + r * v
            row[targets[r]] -= 1
            for j in 0..<v { row[j] *= factor }
        }
    }
    return d
}
