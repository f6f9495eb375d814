/// The error measures every reference check uses, so that a pipeline run and its reference are
/// compared by one rule whatever the model.

/// |got - want| / |want| (|got - want| when want is 0).
func relativeError(_ got: Float, _ want: Float) -> Double {
    Double(abs(got - want)) / max(Double(abs(want)), 1e-30)
}

/// Elementwise `relativeError` of two lists in step.
func relativeErrors(_ got: [Float], _ want: [Float]) -> [Double] {
    zip(got, want).map(relativeError)
}

/// ‖got - want‖ / ‖want‖ (‖got - want‖ when want is zero), accumulated in Double.
func relativeL2(_ got: some Collection<Float>, _ want: [Float]) -> Double {
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(got, want) {
        let d = Double(x) - Double(y)
        difference += d * d
        norm += Double(y) * Double(y)
    }
    return norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
}
