import ArgumentParser
import Model

/// The model-shape flags shared by `train` and `bench model`.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp("moe: the MoE transformer on a byte corpus (every flag below); mlp: DeepSeek's DualPipe example, one block (Linear hidden -> 4 x hidden, exact GELU, Linear back, no biases) per stage, MSE against random targets; only --hidden, --seq-len, --micro-batch-size and --layers apply.", valueName: "moe|mlp"))
    var kind = "moe"
    @Option(help: "Width of the residual stream (default: 128; 512 with --model mlp).")
    var hidden: Int?
    @Option(name: .customLong("heads"), help: "Attention heads; must divide --hidden (default: 4).")
    var headsGiven: Int?
    @Option(help: "Transformer blocks (default: 4); with --model mlp, MLP blocks (default: one per pipeline stage).")
    var layers: Int?
    @Option(name: .customLong("dense-layers"), help: "Leading blocks with a dense SwiGLU instead of MoE (default: 1).")
    var denseLayersGiven: Int?
    @Option(name: .customLong("ffn-hidden"), help: "Inner width of the dense SwiGLU (default: 4 x hidden).")
    var ffnHidden: Int?
    @Option(name: .customLong("experts"), help: "Routed experts per MoE layer (default: 8).")
    var expertsGiven: Int?
    @Option(name: .customLong("expert-hidden"), help: "Inner width of each expert and of the shared expert (default: hidden).")
    var expertHidden: Int?
    @Option(name: .customLong("top-k"), help: "Experts per token (default: 2).")
    var topKGiven: Int?
    @Option(name: .customLong("groups"), help: "Expert groups for group-limited routing (default: 4).")
    var groupsGiven: Int?
    @Option(name: .customLong("topk-groups"), help: "Groups a token's experts may come from (default: 2).")
    var topKGroupsGiven: Int?
    @Flag(inversion: .prefixedNo, help: "Add a shared expert to each MoE layer.")
    var sharedExpert = true
    @Option(help: "Router scores: sigmoid (DeepSeek-V3) or softmax.")
    var scoring = "sigmoid"
    @Option(name: .customLong("seq-len"), help: "Tokens (bytes) per sequence (default: 128; 256 with --model mlp).")
    var sequenceLength: Int?
    @Option(name: .customLong("micro-batch-size"), help: "Sequences per micro-batch (default: 4; 3 with --model mlp).")
    var microBatchSize: Int?

    /// Refused while the flags are parsed, so that a bad model is reported before any work, once
    /// under mpirun (see DualPipeCommand.main). Its memory is the command's to check: the whole
    /// model in one process (`configuration()`), or each rank's share once the job is known.
    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard ["moe", "mlp"].contains(kind) else { throw ValidationError("--model \(kind) is not one of moe, mlp") }
        if isMLP { _ = try mlpConfiguration() } else { _ = try configuration(memory: nil) }
    }

    var isMLP: Bool { kind == "mlp" }

    // The MoE transformer's values: the flag's where given, else ModelConfiguration's default
    // (kept optional so that a refusal can say which values the user did not write).
    private static let defaults = ModelConfiguration()
    var heads: Int { headsGiven ?? Self.defaults.heads }
    var denseLayers: Int { denseLayersGiven ?? 1 }
    var experts: Int { expertsGiven ?? Self.defaults.experts }
    var topK: Int { topKGiven ?? Self.defaults.topK }
    var groups: Int { groupsGiven ?? Self.defaults.groups }
    var topKGroups: Int { topKGroupsGiven ?? Self.defaults.topKGroups }

    /// How a refusal of the MoE model names a value: by its flag, marked where the user left it
    /// to its default ("--experts 3 must split evenly into the default --groups 4").
    func flagNaming(_ field: ModelField, _ value: Int) -> String {
        let (flag, given) = flag(of: field)
        return (given ? "" : "the default ") + "\(flag) \(value)"
    }

    /// The flag that sets `field`, and whether the user wrote it.
    func flag(of field: ModelField) -> (String, Bool) {
        switch field {
        case .hidden: ("--hidden", hidden != nil)
        case .heads: ("--heads", headsGiven != nil)
        case .layers: ("--layers", layers != nil)
        case .ffnHidden: ("--ffn-hidden", ffnHidden != nil)
        case .experts: ("--experts", expertsGiven != nil)
        case .expertHidden: ("--expert-hidden", expertHidden != nil)
        case .topK: ("--top-k", topKGiven != nil)
        case .groups: ("--groups", groupsGiven != nil)
        case .topKGroups: ("--topk-groups", topKGroupsGiven != nil)
        case .sequenceLength: ("--seq-len", sequenceLength != nil)
        case .microBatchSize: ("--micro-batch-size", microBatchSize != nil)
        }
    }

    /// Floats in one activation (or its gradient) between stages: tokens x hidden of either model.
    /// Shapes only: a model too large for one machine has activations too (its ranks' shares are
    /// checked once the job is known).
    func activationFloats() throws -> Int {
        if isMLP {
            let mlp = try mlpConfiguration()
            return mlp.tokensPerMicroBatch * mlp.hidden
        }
        let moe = try configuration(memory: nil)
        return moe.tokensPerMicroBatch * moe.hidden
    }

    /// `--model mlp`'s shape. The MoE transformer's own flags are refused with it, so that a
    /// command line never silently means less than it says.
    func mlpConfiguration() throws -> MLPConfiguration {
        let moeOnly: [(String, Bool)] = [flag(of: .heads), ("--dense-layers", denseLayersGiven != nil)]
            + [ModelField.ffnHidden, .experts, .expertHidden, .topK, .groups, .topKGroups].map(flag(of:))
            + [("--no-shared-expert", !sharedExpert), ("--scoring", scoring != "sigmoid")]
        if let (flag, _) = moeOnly.first(where: \.1) {
            throw ValidationError("\(flag) describes the MoE transformer, not --model mlp (its flags: --hidden, --seq-len, --micro-batch-size, --layers)")
        }
        let configuration = MLPConfiguration(hidden: hidden ?? 512, sequenceLength: sequenceLength ?? 256, microBatchSize: microBatchSize ?? 3)
        do { try configuration.validate() } catch { throw ValidationError(error.description) }
        return configuration
    }

    /// The configuration these flags describe, validated (limits, and the whole model's memory
    /// estimate against `memory` unless nil: see ModelConfiguration.validate and
    /// docs/inputs.md); `defaultLayers` where --layers is not given.
    func configuration(defaultLayers: Int = 4, memory: MemoryLimit? = PhysicalMemory.limit) throws -> ModelConfiguration {
        guard !isMLP else { throw ValidationError("this command runs the MoE transformer only, not --model mlp") }
        let layers = layers ?? defaultLayers, hidden = hidden ?? 128, sequenceLength = sequenceLength ?? 128, microBatchSize = microBatchSize ?? 4
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
            throw ValidationError("--dense-layers \(denseLayers) must be in 0...\(layers) (\(flagNaming(.layers, layers)))")
        }
        let configuration = ModelConfiguration(
            hidden: hidden, heads: heads, layers: layers, moeLayers: Set(denseLayers..<layers),
            ffnHidden: ffnHidden, experts: experts, expertHidden: expertHidden, topK: topK,
            groups: groups, topKGroups: topKGroups, sharedExpert: sharedExpert, scoring: scoring,
            sequenceLength: sequenceLength, microBatchSize: microBatchSize)
        do {
            try configuration.validate(memory: memory, naming: flagNaming)
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }
}
