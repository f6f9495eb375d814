/// How the router turns a token's affinities into expert scores.
public enum RouterScoring: String, Sendable, CaseIterable {
    /// DeepSeek-V3: `σ(logit)` per expert, independent of the others.
    case sigmoid
    /// DeepSeek-V2 and most MoE models: `softmax(logits)` over the experts.
    case softmax
}

/// The shape of the transformer: everything initialisation and partition need.
public struct ModelConfiguration: Sendable, Equatable {
    /// Width of the residual stream.
    public var hidden: Int
    /// Attention heads; `hidden` must divide by it.
    public var heads: Int
    /// Transformer blocks.
    public var layers: Int
    /// Indices of the blocks whose feed-forward is MoE; the others are dense SwiGLU.
    public var moeLayers: Set<Int>
    /// Inner width of the dense SwiGLU feed-forward.
    public var ffnHidden: Int
    /// Routed experts per MoE layer.
    public var experts: Int
    /// Inner width of each expert (and of the shared expert).
    public var expertHidden: Int
    /// Experts each token is sent to.
    public var topK: Int
    /// Expert groups for group-limited routing (1: no group limit).
    public var groups: Int
    /// Groups a token's experts may come from.
    public var topKGroups: Int
    /// Whether each MoE layer also has one shared expert that sees every token.
    public var sharedExpert: Bool
    public var scoring: RouterScoring
    /// Whether the top-k scores are renormalised to sum to one before weighting the experts.
    public var normalizeGates: Bool
    /// Factor on the routed experts' combined output (DeepSeek's routed_scaling_factor).
    public var routedScaling: Float
    /// Tokens per sequence.
    public var sequenceLength: Int
    /// Bytes: always 256.
    public var vocabulary: Int
    /// Sequences per micro-batch.
    public var microBatchSize: Int
    /// RMSNorm's ε.
    public var normEpsilon: Float

    public init(
        hidden: Int = 128, heads: Int = 4, layers: Int = 4, moeLayers: Set<Int>? = nil,
        ffnHidden: Int? = nil, experts: Int = 8, expertHidden: Int? = nil, topK: Int = 2,
        groups: Int = 4, topKGroups: Int = 2, sharedExpert: Bool = true,
        scoring: RouterScoring = .sigmoid, normalizeGates: Bool = true, routedScaling: Float = 1,
        sequenceLength: Int = 128, microBatchSize: Int = 4, normEpsilon: Float = 1e-5
    ) {
        self.hidden = hidden
        self.heads = heads
        self.layers = layers
        // DeepSeek keeps the first block dense (first_k_dense_replace); the rest are MoE.
        self.moeLayers = moeLayers ?? Set(1..<max(layers, 1))
        self.ffnHidden = ffnHidden ?? 4 * hidden
        self.experts = experts
        self.expertHidden = expertHidden ?? hidden
        self.topK = topK
        self.groups = groups
        self.topKGroups = topKGroups
        self.sharedExpert = sharedExpert
        self.scoring = scoring
        self.normalizeGates = normalizeGates
        self.routedScaling = routedScaling
        self.sequenceLength = sequenceLength
        self.vocabulary = 256
        self.microBatchSize = microBatchSize
        self.normEpsilon = normEpsilon
    }

    /// Width of one attention head.
    public var headDim: Int { hidden / heads }
    /// Tokens in one micro-batch: the rows of every activation.
    public var tokensPerMicroBatch: Int { microBatchSize * sequenceLength }

    /// Checks every rule, naming the offending values.
    public func validate() throws(ConfigurationError) {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(ConfigurationError) {
            if !ok { throw ConfigurationError(message()) }
        }
        try require(hidden >= 1 && heads >= 1 && layers >= 1,
                    "hidden (\(hidden)), heads (\(heads)) and layers (\(layers)) must be positive")
        try require(hidden % heads == 0, "hidden \(hidden) must be divisible by heads \(heads)")
        try require(ffnHidden >= 1 && expertHidden >= 1,
                    "ffn hidden (\(ffnHidden)) and expert hidden (\(expertHidden)) must be positive")
        try require(sequenceLength >= 1 && microBatchSize >= 1,
                    "sequence length (\(sequenceLength)) and micro-batch size (\(microBatchSize)) must be positive")
        let outside = moeLayers.filter { $0 < 0 || $0 >= layers }.sorted()
        try require(outside.isEmpty, "MoE layers \(outside) are outside the blocks 0..<\(layers)")
        guard !moeLayers.isEmpty else { return }
        try require(experts >= 1, "experts must be positive, got \(experts)")
        try require(topK >= 1 && topK <= experts, "top-k \(topK) must be in 1...\(experts) (the experts)")
        try require(groups >= 1 && experts % groups == 0,
                    "experts \(experts) must split evenly into groups \(groups)")
        try require(topKGroups >= 1 && topKGroups <= groups,
                    "top-k groups \(topKGroups) must be in 1...\(groups) (the groups)")
        try require(topK <= topKGroups * (experts / groups),
                    "top-k \(topK) exceeds the \(topKGroups * (experts / groups)) experts in \(topKGroups) groups of \(experts / groups)")
    }
}

/// A configuration (model, partition, data, training) that cannot work, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
