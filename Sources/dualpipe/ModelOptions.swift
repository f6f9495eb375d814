import ArgumentParser
import Model

/// The model-shape flags shared by `train` and `bench model`.
struct ModelOptions: ParsableArguments {
    @Option(help: "Width of the residual stream.")
    var hidden = 128
    @Option(help: "Attention heads; must divide --hidden.")
    var heads = 4
    @Option(help: "Transformer blocks.")
    var layers = 4
    @Option(name: .customLong("dense-layers"), help: "Leading blocks with a dense SwiGLU instead of MoE.")
    var denseLayers = 1
    @Option(name: .customLong("ffn-hidden"), help: "Inner width of the dense SwiGLU (default: 4 x hidden).")
    var ffnHidden: Int?
    @Option(help: "Routed experts per MoE layer.")
    var experts = 8
    @Option(name: .customLong("expert-hidden"), help: "Inner width of each expert and of the shared expert (default: hidden).")
    var expertHidden: Int?
    @Option(name: .customLong("top-k"), help: "Experts per token.")
    var topK = 2
    @Option(help: "Expert groups for group-limited routing.")
    var groups = 4
    @Option(name: .customLong("topk-groups"), help: "Groups a token's experts may come from.")
    var topKGroups = 2
    @Flag(inversion: .prefixedNo, help: "Add a shared expert to each MoE layer.")
    var sharedExpert = true
    @Option(help: "Router scores: sigmoid (DeepSeek-V3) or softmax.")
    var scoring = "sigmoid"
    @Option(name: .customLong("seq-len"), help: "Tokens (bytes) per sequence.")
    var sequenceLength = 128
    @Option(name: .customLong("micro-batch-size"), help: "Sequences per micro-batch.")
    var microBatchSize = 4

    /// Refused while the flags are parsed, so that a bad model is reported before any work, once
    /// under mpirun (see DualPipeCommand.main).
    func validate() throws { _ = try configuration() }

    /// The configuration these flags describe, validated (limits and the memory estimate included:
    /// see ModelConfiguration.validate and docs/inputs.md).
    func configuration() throws -> ModelConfiguration {
        guard let scoring = RouterScoring(rawValue: scoring) else {
            throw ValidationError("--scoring \(scoring) is not one of sigmoid, softmax")
        }
        guard layers >= 1 else {
            throw ValidationError("--layers \(layers): a model needs at least 1 layer (transformer block)")
        }
        guard layers <= ModelLimits.layers else {
            throw ValidationError("--layers \(layers) exceeds the limit of \(ModelLimits.layers) (docs/inputs.md)")
        }
        guard denseLayers >= 0 && denseLayers <= layers else {
            throw ValidationError("--dense-layers \(denseLayers) must be in 0...\(layers) (the layers)")
        }
        let configuration = ModelConfiguration(
            hidden: hidden, heads: heads, layers: layers, moeLayers: Set(denseLayers..<layers),
            ffnHidden: ffnHidden, experts: experts, expertHidden: expertHidden, topK: topK,
            groups: groups, topKGroups: topKGroups, sharedExpert: sharedExpert, scoring: scoring,
            sequenceLength: sequenceLength, microBatchSize: microBatchSize)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }
}
