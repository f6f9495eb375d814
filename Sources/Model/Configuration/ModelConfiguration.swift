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
        // Clamped to the limit so that an absurd layer count cannot build a giant set before
        // `validate` refuses it; likewise 4 x hidden saturates instead of overflowing.
        self.moeLayers = moeLayers ?? Set(1..<min(max(layers, 1), ModelLimits.layers + 1))
        let (fourTimes, overflow) = hidden.multipliedReportingOverflow(by: 4)
        self.ffnHidden = ffnHidden ?? (overflow ? Int.max : fourTimes)
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

    /// Checks every rule, naming the offending values: each value at least 1 and within its
    /// `ModelLimits`, the shape rules, and, when `memory` (bytes) is given, that the estimated
    /// memory of training the model fits in it (`PhysicalMemory.limit` by default: MemTotal, or
    /// the process's cgroup limit where lower). `naming` says each value the way the caller's user
    /// wrote it (the command line: its flag, and whether the value is the flag's default).
    public func validate(memory: MemoryLimit? = PhysicalMemory.limit,
                         naming: ModelField.Naming = ModelField.plainNaming) throws(ConfigurationError) {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(ConfigurationError) {
            if !ok { throw ConfigurationError(message()) }
        }
        try require(layers >= 1, "\(naming(.layers, layers)): a model needs at least 1 layer (transformer block)")
        let sizes: [(ModelField, Int, Int)] = [
            (.hidden, hidden, ModelLimits.width), (.heads, heads, ModelLimits.width), (.layers, layers, ModelLimits.layers),
            (.ffnHidden, ffnHidden, ModelLimits.width), (.expertHidden, expertHidden, ModelLimits.width),
            (.sequenceLength, sequenceLength, ModelLimits.sequenceLength),
            (.microBatchSize, microBatchSize, ModelLimits.microBatchSize),
        ]
        for (field, value, limit) in sizes {
            try require(value >= 1, "\(naming(field, value)): it must be at least 1")
            try require(value <= limit, "\(naming(field, value)) exceeds the limit of \(limit) (docs/inputs.md)")
        }
        try require(hidden % heads == 0, "\(naming(.hidden, hidden)) must be divisible by \(naming(.heads, heads))")
        let outside = moeLayers.filter { $0 < 0 || $0 >= layers }.sorted()
        try require(outside.isEmpty, "MoE layers \(outside) are outside the blocks 0..<\(layers)")
        if !moeLayers.isEmpty {
            try require(experts >= 1, "\(naming(.experts, experts)): an MoE layer needs at least 1 expert")
            try require(experts <= ModelLimits.experts,
                        "\(naming(.experts, experts)) exceeds the limit of \(ModelLimits.experts) (docs/inputs.md)")
            try require(topK >= 1 && topK <= experts,
                        "\(naming(.topK, topK)) must be in 1...\(experts) (\(naming(.experts, experts)))")
            try require(groups >= 1 && experts % groups == 0,
                        "\(naming(.experts, experts)) must split evenly into \(naming(.groups, groups))")
            try require(topKGroups >= 1 && topKGroups <= groups,
                        "\(naming(.topKGroups, topKGroups)) must be in 1...\(groups) (\(naming(.groups, groups)))")
            let reachable = topKGroups * (experts / groups)
            try require(topK <= reachable,
                        "\(naming(.topK, topK)) exceeds the \(reachable) experts a token can reach: \(naming(.topKGroups, topKGroups)) of \(experts / groups) experts each")
        }
        if let memory { try requireFits(in: memory) }
    }

    /// Refuses a model whose estimated training memory exceeds `memory`, with the estimate.
    public func requireFits(in memory: MemoryLimit) throws(ConfigurationError) {
        guard memoryEstimate.total > Double(memory.bytes) else { return }
        throw ConfigurationError(memoryRefusal(in: memory))
    }

    /// What a refusal by memory says: the estimate's parts against `memory`, and `process` bytes
    /// already resident (the program before the model) where the caller measured them.
    public func memoryRefusal(in memory: MemoryLimit, process: Double = 0) -> String {
        let estimate = memoryEstimate
        let gib = PhysicalMemory.formatted
        let shape = "hidden \(hidden), \(layers) layers, " + (moeLayers.isEmpty ? "" : "\(experts) experts of width \(expertHidden), ")
            + "ffn hidden \(ffnHidden), \(microBatchSize) sequences of \(sequenceLength) tokens per micro-batch"
        return "the model (\(shape)) needs about \(gib(estimate.total)) to train: \(gib(estimate.parameters)) for its "
            + "\(Int(estimate.parameterCount)) parameters with gradients and AdamW moments, \(gib(estimate.activations + estimate.transient)) "
            + "for one micro-batch's activations\(process > 0 ? "; and \(gib(process)) for the process as it started" : ""); this machine has \(gib(Double(memory.bytes))) (\(memory.source))"
    }
}

/// A value of a `ModelConfiguration` that validation may name in a refusal.
public enum ModelField: Sendable, CaseIterable {
    case hidden, heads, layers, ffnHidden, experts, expertHidden, topK, groups, topKGroups, sequenceLength, microBatchSize

    /// How a refusal says a field and its value, e.g. "heads 4" or "the default --heads 4".
    public typealias Naming = (ModelField, Int) -> String

    /// The field's name in words, as the library's own callers read it.
    public var words: String {
        switch self {
        case .hidden: "hidden"
        case .heads: "heads"
        case .layers: "layers"
        case .ffnHidden: "ffn hidden"
        case .experts: "experts"
        case .expertHidden: "expert hidden"
        case .topK: "top-k"
        case .groups: "groups"
        case .topKGroups: "top-k groups"
        case .sequenceLength: "sequence length"
        case .microBatchSize: "micro-batch size"
        }
    }

    /// "hidden 30": the words and the value.
    public static func plainNaming(_ field: ModelField, _ value: Int) -> String { "\(field.words) \(value)" }
}

/// A configuration (model, partition, data, training) that cannot work, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
