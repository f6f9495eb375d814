/// The shape of `--model mlp`: DeepSeek's DualPipe example model, one `MLPBlock` per pipeline
/// stage, trained on random inputs against random targets. The defaults are the example's.
public struct MLPConfiguration: Sendable, Equatable {
    /// Width of the activations between stages; each block's inner width is 4 x hidden.
    public var hidden: Int
    /// Rows per sequence.
    public var sequenceLength: Int
    /// Sequences per micro-batch.
    public var microBatchSize: Int

    public init(hidden: Int = 512, sequenceLength: Int = 256, microBatchSize: Int = 3) {
        self.hidden = hidden
        self.sequenceLength = sequenceLength
        self.microBatchSize = microBatchSize
    }

    /// Rows of one micro-batch's activation `[tokens, hidden]`.
    public var tokensPerMicroBatch: Int { sequenceLength * microBatchSize }
    public var inner: Int { 4 * hidden }

    /// Each value within `ModelLimits`, and one micro-batch's activation within 2^31 floats
    /// (an MPI message count is an Int32).
    public func validate() throws(ConfigurationError) {
        guard hidden >= 1 && hidden <= ModelLimits.width / 4 else {
            throw ConfigurationError("--hidden \(hidden) must be in 1...\(ModelLimits.width / 4) with --model mlp (the inner width is 4 x hidden)")
        }
        guard sequenceLength >= 1 && sequenceLength <= ModelLimits.sequenceLength else {
            throw ConfigurationError("--seq-len \(sequenceLength) must be in 1...\(ModelLimits.sequenceLength)")
        }
        guard microBatchSize >= 1 && microBatchSize <= ModelLimits.microBatchSize else {
            throw ConfigurationError("--micro-batch-size \(microBatchSize) must be in 1...\(ModelLimits.microBatchSize)")
        }
        guard tokensPerMicroBatch.multipliedReportingOverflow(by: inner).partialValue <= Int(Int32.max),
              !tokensPerMicroBatch.multipliedReportingOverflow(by: inner).overflow else {
            throw ConfigurationError("--seq-len \(sequenceLength) x --micro-batch-size \(microBatchSize) x 4 x --hidden \(hidden) floats exceed 2^31 in one micro-batch's activation")
        }
    }

    /// FLOPs of one block's F for one micro-batch (two matmuls); B and W each cost the same.
    public var forwardFLOPsPerBlock: Double { 2 * 2 * Double(tokensPerMicroBatch) * Double(hidden) * Double(inner) }

    /// FLOPs of one micro-batch's F, B and W through `blocks` blocks: three times F's, less the
    /// data's gradient, one product of the first block's B that nothing needs (`MLPStage`).
    public func flopsPerMicroBatch(blocks: Int) -> Double { forwardFLOPsPerBlock * (3 * Double(blocks) - 0.5) }
}
