import Model

/// A stage's parameter values as one sequence, in visiting order, copied out of and into the
/// parameters a range at a time: what lets weights go to another rank through a small window
/// instead of a buffer the size of the stage.
struct ParameterValues {
    let owner: any ParameterOwner
    /// The values in the sequence.
    let count: Int

    init(_ owner: any ParameterOwner) {
        self.owner = owner
        count = owner.parameterCount
    }

    /// `values[range]` into `destination` (room for `range.count`).
    func copy(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        walk(range) { tensor, within, at in
            tensor.withUnsafeBufferPointer { (destination + at).update(from: $0.baseAddress! + within.lowerBound, count: within.count) }
        }
    }

    /// `values[range]` from `source` (`range.count` values).
    func assign(_ range: Range<Int>, from source: UnsafePointer<Float>) {
        walk(range) { tensor, within, at in
            tensor.withUnsafeMutableBufferPointer { ($0.baseAddress! + within.lowerBound).update(from: source + at, count: within.count) }
        }
    }

    /// Visits each parameter that `range` overlaps with the overlap (indices into the parameter's
    /// own values) and where the overlap starts relative to `range`.
    private func walk(_ range: Range<Int>, _ body: (inout [Float], Range<Int>, Int) -> Void) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "values \(range) of a stage of \(count)")
        var start = 0
        owner.visitParameters { p in
            let end = start + p.value.count
            defer { start = end }
            let low = max(start, range.lowerBound), high = min(end, range.upperBound)
            guard low < high else { return }
            body(&p.value.scalars, (low - start)..<(high - start), low - range.lowerBound)
        }
    }
}
