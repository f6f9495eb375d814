import Tensor

/// The data of `--model mlp`, as in DeepSeek's example: every micro-batch is an input and a
/// target `[tokens, hidden]` drawn from N(0, 1), a pure function of the seed and the micro-batch
/// index (the first and the last stage draw the same one without talking). The same micro-batches
/// come back every step, so the benchmark measures the pipeline, not the generator; each is drawn
/// once and kept.
public final class MLPData {
    public let configuration: MLPConfiguration
    public let seed: UInt64
    private var cache: [Int: StageBatch] = [:]

    public init(configuration: MLPConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.seed = seed
    }

    /// Micro-batch `index` of the step (the global index, over every data-parallel copy).
    public func batch(_ index: Int) -> StageBatch {
        if let batch = cache[index] { return batch }
        let shape = [configuration.tokensPerMicroBatch, configuration.hidden]
        var inputs = SplitMix64(seed: seed, streams: [6, UInt64(index), 0])
        var targets = SplitMix64(seed: seed, streams: [6, UInt64(index), 1])
        let batch = StageBatch(input: Tensor(shape: shape, normalStandardDeviation: 1, rng: &inputs),
                               targets: .values(Tensor(shape: shape, normalStandardDeviation: 1, rng: &targets)))
        cache[index] = batch
        return batch
    }
}
