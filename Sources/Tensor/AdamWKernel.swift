import CLaneKernels

extension LaneKernels {
    /// The scalars of one AdamW step, shared by every parameter of a buffer.
    public struct AdamWStep: Sendable {
        public var beta1: Float, beta2: Float, epsilon: Float
        /// Learning rate x weight decay where the buffer decays, else 0.
        public var decay: Float
        public var learningRate: Float
        /// Multiplies every gradient first (the clipping factor).
        public var gradientScale: Float
        /// The bias corrections `1 - β1ᵗ` and `1 - β2ᵗ`.
        public var corrections: (Float, Float)

        public init(beta1: Float, beta2: Float, epsilon: Float, decay: Float, learningRate: Float, gradientScale: Float,
                    corrections: (Float, Float)) {
            (self.beta1, self.beta2, self.epsilon, self.decay) = (beta1, beta2, epsilon, decay)
            (self.learningRate, self.gradientScale, self.corrections) = (learningRate, gradientScale, corrections)
        }
    }

    /// One AdamW step in place over `count` parameters `p` with gradients `g` and moments `m`, `v`
    /// (each `count` floats, none overlapping): the formula and its rounding are in CLaneKernels.h,
    /// the same bits in every instruction set.
    public static func adamW(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                             firstMoments m: UnsafeMutablePointer<Float>, secondMoments v: UnsafeMutablePointer<Float>,
                             count: Int, step: AdamWStep) {
        var scalars = dp_adamw_step(beta1: step.beta1, beta2: step.beta2, epsilon: step.epsilon, decay: step.decay,
                                    learning_rate: step.learningRate, gradient_scale: step.gradientScale,
                                    correction1: step.corrections.0, correction2: step.corrections.1)
        active.adamw(p, g, m, v, count, &scalars)
    }
}
