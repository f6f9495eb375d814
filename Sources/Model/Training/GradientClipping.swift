/// Gradient clipping by global norm: when `‖g‖₂` over every parameter of the model exceeds
/// `maxNorm`, every gradient is scaled by `maxNorm / ‖g‖₂`. With pipeline stages the norm is
/// global: each stage contributes its `Σ g²` (an allreduce sums them) before anyone scales.
public enum GradientClipping {
    /// `Σ g²` of one buffer, in Double so the sum does not depend on float rounding of large counts.
    public static func sumOfSquares(_ gradients: [Float]) -> Double {
        var sum = SquareSum()
        gradients.withUnsafeBufferPointer { sum.add($0) }
        return sum.total
    }

    /// `Σ g²` over every gradient of `owner` (a stage), in Double, equal to
    /// `sumOfSquares(flatGradients())`: the buffers continue one sum in flat-buffer order.
    public static func sumOfSquares(_ owner: some ParameterOwner) -> Double {
        var sum = SquareSum()
        owner.visitParameters { p in p.gradient.scalars.withUnsafeBufferPointer { sum.add($0) } }
        return sum.total
    }

    /// A running `Σ g²` over buffers taken one after another as one sequence: element `i` of the
    /// sequence goes to partial sum `i mod 8`, and `total` adds the eight in order. One Double
    /// running sum waited four cycles on each add (0.75 ms a step for a 1M-parameter stage);
    /// eight independent ones do not, and the order is fixed by the element's place, not by
    /// the CPU, so every rank and the reference add alike.
    struct SquareSum {
        private var lanes = SIMD8<Double>()
        private var position = 0  // elements added so far

        var total: Double { (0..<8).reduce(0.0) { $0 + lanes[$1] } }

        mutating func add(_ values: UnsafeBufferPointer<Float>) {
            var i = 0
            // Up to the next multiple of 8 in the sequence, one lane at a time.
            while i < values.count && (position + i) % 8 != 0 {
                let g = Double(values[i])
                lanes[(position + i) % 8] += g * g
                i += 1
            }
            let whole = i + (values.count - i) / 8 * 8
            var running = lanes  // a local, so that the sums stay in registers
            while i < whole {
                let g = SIMD8<Double>(UnsafeRawPointer(values.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self))
                running += g * g
                i += 8
            }
            lanes = running
            while i < values.count {
                let g = Double(values[i])
                lanes[(position + i) % 8] += g * g
                i += 1
            }
            position += values.count
        }
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
