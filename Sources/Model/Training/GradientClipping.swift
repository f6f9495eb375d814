/// Gradient clipping by global norm: when `‖g‖₂` over every parameter of the model exceeds
/// `maxNorm`, every gradient is scaled by `maxNorm / ‖g‖₂`. With pipeline stages the norm is
/// global: each stage contributes its `Σ g²` (an allreduce sums them) before anyone scales.
public enum GradientClipping {
    /// `Σ g²` of one buffer, in Double so the sum does not depend on float rounding of large counts.
    public static func sumOfSquares(_ gradients: [Float]) -> Double {
        var sum = 0.0
        for g in gradients { sum += Double(g) * Double(g) }
        return sum
    }

    /// `Σ g²` over every gradient of `owner` (a stage), in Double, summed in flat-buffer order.
    public static func sumOfSquares(_ owner: some ParameterOwner) -> Double {
        var sum = 0.0
        // One running sum in buffer order, so the result equals `sumOfSquares(flatGradients())`.
        owner.visitParameters { p in
            for g in p.gradient.scalars { sum += Double(g) * Double(g) }
        }
        return sum
    }

    /// The factor every gradient is multiplied by: 1 when the norm is within `maxNorm` (or
    /// clipping is off, `maxNorm <= 0`), `maxNorm / norm` otherwise.
    public static func scale(globalNorm: Double, maxNorm: Float) -> Float {
        guard maxNorm > 0, globalNorm > Double(maxNorm) else { return 1 }
        return Float(Double(maxNorm) / globalNorm)
    }

    /// Scales `gradients` in place by `factor`.
    public static func apply(_ factor: Float, to gradients: inout [Float]) {
        guard factor != 1 else { return }
        gradients.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] *= factor }
        }
    }
}
