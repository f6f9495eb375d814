/// Mean squared error over every element, `Σ (y - t)² / count`, PyTorch's `F.mse_loss` with its
/// default mean reduction. Returns the loss and `y - t` (kept for the gradient).
public func meanSquaredError(_ y: Tensor, _ t: Tensor) -> (loss: Float, difference: Tensor) {
    precondition(y.shape == t.shape, "meanSquaredError: output \(y.shape) and target \(t.shape) differ")
    var difference = y
    var total = 0.0
    difference.scalars.withUnsafeMutableBufferPointer { pd in
        t.scalars.withUnsafeBufferPointer { pt in
            let d = pd.baseAddress!, target = pt.baseAddress!
            for i in 0..<pd.count {
                d[i] -= target[i]
                total += Double(d[i] * d[i])
            }
        }
    }
    return (Float(total / Double(max(y.count, 1))), difference)
}

/// `∂(scale · mse)/∂y = scale · 2 (y - t) / count`, from the `difference` `meanSquaredError` returned.
public func meanSquaredErrorGradient(difference: Tensor, scale: Float) -> Tensor {
    scaled(difference, by: 2 * scale / Float(max(difference.count, 1)))
}
