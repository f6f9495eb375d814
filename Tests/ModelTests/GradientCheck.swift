import Model
import Tensor

/// Finite-difference checking of layers and stages, accumulated in Double.
///
/// The forward passes are float32, so each difference quotient carries two errors: rounding of
/// the forward (~1e-7 relative; for the O(1) projections here ~1e-6 absolute, divided by the
/// 2ε = 2e-2 step: ~5e-5) and truncation (ε²/6 · f''' ≈ 2e-5 for these smooth functions).
/// Checks allow 1e-3 absolute plus 2e-2 relative per entry: an order of magnitude above both,
/// yet a wrong sign, a missing term or a gradient sent to the wrong row is off by O(|g|).
enum GradientCheck {
    static let epsilon: Float = 1e-2

    static func random(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, normalStandardDeviation: std, rng: &rng)
    }

    static func agree(_ analytic: Float, _ numeric: Double, absolute: Double = 1e-3, relative: Double = 2e-2) -> Bool {
        abs(Double(analytic) - numeric) <= absolute + relative * abs(numeric)
    }

    /// Adds `delta` to element `element` of parameter number `index` of `owner`.
    static func nudge(_ owner: some ParameterOwner, parameter index: Int, element: Int, by delta: Float) {
        var i = 0
        owner.visitParameters { p in
            if i == index { p.value.scalars[element] += delta }
            i += 1
        }
    }

    /// (name, gradient) of every parameter, in visiting order.
    static func gradients(_ owner: some ParameterOwner) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        owner.visitParameters { out.append(($0.name, $0.gradient)) }
        return out
    }

    /// A few elements of each parameter (all of a small one), spread over it.
    static func sampledElements(count: Int, samples: Int = 6) -> [Int] {
        count <= samples ? Array(0..<count) : (0..<samples).map { $0 * (count - 1) / (samples - 1) }
    }

    /// Checks a layer's B (input gradient) and W (parameter gradients) against central
    /// differences of `Σ w ⊙ forward(x)`. Each probing forward uses a fresh micro-batch id so
    /// the saved contexts of the checked one stay untouched. Returns the mismatches as text.
    static func check(_ layer: some Layer, input x: Tensor, checkInput: Bool = true, seed: UInt64) -> [String] {
        var nextMicroBatch = 1
        func f(_ input: Tensor) -> Double {
            defer { nextMicroBatch += 1 }
            let y = layer.forward(nextMicroBatch, input)
            return dot(y, projection(y.shape))
        }
        var projectionCache: Tensor?
        func projection(_ shape: [Int]) -> Tensor {
            if let p = projectionCache { return p }
            let p = random(shape, seed: seed)
            projectionCache = p
            return p
        }
        layer.zeroGradients()
        let y = layer.forward(0, x)
        let dx = layer.backwardInput(0, projection(y.shape))
        layer.backwardWeight(0)
        let inputFailures = checkInput ? inputMismatches(input: x, gradient: dx, loss: f) : []
        return inputFailures + parameterMismatches(layer, loss: { f(x) }).failures
    }

    /// Central differences of `loss` in sampled elements of `x` against the analytic input gradient
    /// `dx`. The quotient divides by the step float32 actually took. Returns the mismatches as text.
    static func inputMismatches(input x: Tensor, gradient dx: Tensor, samples: Int = 12, loss: (Tensor) -> Double) -> [String] {
        sampledElements(count: x.count, samples: samples).compactMap { i in
            var plus = x, minus = x
            plus.scalars[i] += epsilon
            minus.scalars[i] -= epsilon
            let numeric = (loss(plus) - loss(minus)) / Double(plus.scalars[i] - minus.scalars[i])
            return agree(dx.scalars[i], numeric) ? nil : "input[\(i)]: analytic \(dx.scalars[i]), numeric \(numeric)"
        }
    }

    /// Central differences of `loss` in sampled elements of every parameter of `owner` against the
    /// gradients it holds, each parameter nudged up, down and back. Returns the mismatches as text
    /// and how many elements were checked.
    static func parameterMismatches(
        _ owner: some ParameterOwner, samples: Int = 6, loss: () -> Double
    ) -> (failures: [String], checked: Int) {
        var failures: [String] = []
        var checked = 0
        for (index, (name, gradient)) in gradients(owner).enumerated() {
            for e in sampledElements(count: gradient.count, samples: samples) {
                nudge(owner, parameter: index, element: e, by: epsilon)
                let up = loss()
                nudge(owner, parameter: index, element: e, by: -2 * epsilon)
                let down = loss()
                nudge(owner, parameter: index, element: e, by: epsilon)
                let numeric = (up - down) / Double(2 * epsilon)
                if !agree(gradient.scalars[e], numeric) {
                    failures.append("\(name)[\(e)]: analytic \(gradient.scalars[e]), numeric \(numeric)")
                }
                checked += 1
            }
        }
        return (failures, checked)
    }
}
