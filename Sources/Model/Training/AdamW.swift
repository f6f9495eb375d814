#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// AdamW (Loshchilov and Hutter): Adam moments with bias correction, and weight decay applied
/// directly to the weights (decoupled from the gradient) where `decayMask` says so.
/// Works on a flat parameter buffer, so a stage updates its parameters in one pass.
public struct AdamW: Sendable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Updates applied so far (the `t` of the bias correction).
    public private(set) var steps: Int = 0
    private var m: [Float] = []  // [parameters] first moment
    private var v: [Float] = []  // [parameters] second moment

    public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One update at learning rate `lr`:
    /// `m ← β1 m + (1-β1) g`, `v ← β2 v + (1-β2) g²`,
    /// `p ← p - lr (λ p [decayed]  +  (m / (1-β1ᵗ)) / (√(v / (1-β2ᵗ)) + ε))`.
    public mutating func update(parameters p: inout [Float], gradients g: [Float], decayMask: [Bool], learningRate lr: Float) {
        precondition(p.count == g.count && p.count == decayMask.count,
                     "AdamW: \(p.count) parameters, \(g.count) gradients, \(decayMask.count) mask entries")
        if m.isEmpty {
            m = [Float](repeating: 0, count: p.count)
            v = m
        }
        precondition(m.count == p.count, "AdamW: state holds \(m.count) parameters, got \(p.count)")
        steps += 1
        let correction1 = 1 - powf(beta1, Float(steps)), correction2 = 1 - powf(beta2, Float(steps))
        let b1 = beta1, b2 = beta2, eps = epsilon, decay = lr * weightDecay
        m.withUnsafeMutableBufferPointer { pm in
            v.withUnsafeMutableBufferPointer { pv in
                p.withUnsafeMutableBufferPointer { pp in
                    g.withUnsafeBufferPointer { pg in
                        decayMask.withUnsafeBufferPointer { mask in
                            for i in 0..<pp.count {
                                let gi = pg[i]
                                pm[i] = b1 * pm[i] + (1 - b1) * gi
                                pv[i] = b2 * pv[i] + (1 - b2) * gi * gi
                                if mask[i] { pp[i] -= decay * pp[i] }
                                let mHat = pm[i] / correction1, vHat = pv[i] / correction2
                                pp[i] -= lr * mHat / (vHat.squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}
