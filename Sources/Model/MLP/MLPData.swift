import Tensor

/// The data of `--model mlp`, as in DeepSeek's example: every micro-batch is an input and a
/// target `[tokens, hidden]` drawn from N(0, 1), a pure function of the seed and the micro-batch
/// index (the first and the last stage draw the same one without talking). The same micro-batches
/// come back every step, so the benchmark measures the pipeline, not the generator; each part is
/// drawn once, when first asked for, and kept.
public final class MLPData {
    public let configuration: MLPConfiguration
    public let seed: UInt64
    private var inputs: [Int: Tensor] = [:]
    private var targets: [Int: Tensor] = [:]

    public init(configuration: MLPConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.seed = seed
    }

    /// Micro-batch `index` of the step (the global index, over every data-parallel copy).
    public func batch(_ index: Int) -> StageBatch {
        batch(index, input: true, targets: true)
    }

    /// Micro-batch `index` with only the parts a rank uses: the input where it runs the
    /// micro-batch's first stage, the targets where it runs its last. A part left out is an empty
    /// `[0]` tensor, neither drawn nor kept (a rank that starts or ends the pipeline then keeps
    /// half of the data, a rank in the middle none).
    public func batch(_ index: Int, input: Bool, targets wantsTargets: Bool) -> StageBatch {
        StageBatch(input: input ? part(index, stream: 0, in: &inputs) : Tensor(shape: [0]),
                   targets: .values(wantsTargets ? part(index, stream: 1, in: &targets) : Tensor(shape: [0])))
    }

    private func part(_ index: Int, stream: UInt64, in cache: inout [Int: Tensor]) -> Tensor {
        if let tensor = cache[index] { return tensor }
        var rng = SplitMix64(seed: seed, streams: [6, UInt64(index), stream])
        let tensor = Tensor(shape: [configuration.tokensPerMicroBatch, configuration.hidden], normalStandardDeviation: 1, rng: &rng)
        cache[index] = tensor
        return tensor
    }
}
