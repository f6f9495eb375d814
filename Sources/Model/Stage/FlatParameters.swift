import Tensor

/// Parameters and gradients as flat buffers, in `visitParameters` order: what an allreduce
/// sends and what the optimizer updates.
extension ParameterOwner {
    /// The number of scalars over all parameters.
    public var parameterCount: Int {
        var total = 0
        visitParameters { total += $0.value.count }
        return total
    }

    /// The parameter names in buffer order.
    public var parameterNames: [String] {
        var names: [String] = []
        visitParameters { names.append($0.name) }
        return names
    }

    /// All parameter values, concatenated.
    public func flatParameters() -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(parameterCount)
        visitParameters { flat.append(contentsOf: $0.value.scalars) }
        return flat
    }

    /// Each parameter's values, in buffer order: `flatParameters()` in pieces, without copying
    /// (a checkpoint writes them one after another).
    public func parameterPieces() -> [[Float]] {
        var pieces: [[Float]] = []
        visitParameters { pieces.append($0.value.scalars) }
        return pieces
    }

    /// All gradients, concatenated.
    public func flatGradients() -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(parameterCount)
        visitParameters { flat.append(contentsOf: $0.gradient.scalars) }
        return flat
    }

    /// Per scalar, whether weight decay applies.
    public func decayMask() -> [Bool] {
        var mask: [Bool] = []
        visitParameters { mask.append(contentsOf: repeatElement($0.decays, count: $0.value.count)) }
        return mask
    }

    /// Overwrites every parameter from `flat` (as produced by `flatParameters`).
    public func loadParameters(_ flat: [Float]) {
        precondition(flat.count == parameterCount, "loadParameters: \(flat.count) values for \(parameterCount) parameters")
        var offset = 0
        visitParameters { p in
            p.value.scalars.replaceSubrange(0..<p.value.count, with: flat[offset..<(offset + p.value.count)])
            offset += p.value.count
        }
    }

    /// Overwrites every gradient from `flat` (after an allreduce, say).
    public func loadGradients(_ flat: [Float]) {
        precondition(flat.count == parameterCount, "loadGradients: \(flat.count) values for \(parameterCount) parameters")
        var offset = 0
        visitParameters { p in
            p.gradient.scalars.replaceSubrange(0..<p.gradient.count, with: flat[offset..<(offset + p.gradient.count)])
            offset += p.gradient.count
        }
    }

    public func zeroGradients() {
        visitParameters { $0.gradient.zero() }
    }
}
