import Tensor

/// One micro-batch of the language model: `sequences` windows of the corpus, each input the
/// bytes `[o, o+T)` and each target the next bytes `[o+1, o+T+1)`.
public struct MicroBatch: Sendable, Equatable {
    public var tokens: [Int]   // [sequences * T]
    public var targets: [Int]  // [sequences * T]

    /// The tokens as the first stage's input tensor `[sequences * T]`.
    public var input: Tensor { Tensor(shape: [tokens.count], scalars: tokens.map { Float($0) }) }
}

/// Fixed-seed sampling of windows: micro-batch `(step, microBatch)` is a pure function of the
/// seed, so the first and the last pipeline stage (on different ranks) draw the same one
/// without talking, and two runs see the same data. Windows lie inside `span`, a byte range of
/// the corpus (the training head or the held-out tail of a `CorpusSplit`).
public struct MicroBatchSampler: Sendable {
    public let corpus: ByteCorpus
    public let sequenceLength: Int
    public let sequences: Int
    public let seed: UInt64
    /// The bytes windows are drawn from, targets included.
    public let span: Range<Int>

    public init(corpus: ByteCorpus, sequenceLength: Int, sequences: Int, seed: UInt64,
                span: Range<Int>? = nil) throws(ConfigurationError) {
        let span = span ?? 0..<corpus.bytes.count
        precondition(span.lowerBound >= 0 && span.upperBound <= corpus.bytes.count, "sampler span \(span) outside the corpus")
        guard span.count >= sequenceLength + 1 else {
            throw ConfigurationError("data \(corpus.source) has \(span.count) bytes, too short for sequence length \(sequenceLength) (needs at least \(sequenceLength + 1))")
        }
        self.corpus = corpus
        self.sequenceLength = sequenceLength
        self.sequences = sequences
        self.seed = seed
        self.span = span
    }

    public func microBatch(step: Int, index: Int) -> MicroBatch {
        var rng = SplitMix64(seed: seed, streams: [4, UInt64(step), UInt64(index)])
        let starts = span.count - sequenceLength  // offsets 0..<starts leave room for the last target
        var batch = MicroBatch(tokens: [], targets: [])
        batch.tokens.reserveCapacity(sequences * sequenceLength)
        batch.targets.reserveCapacity(sequences * sequenceLength)
        for _ in 0..<sequences {
            let o = span.lowerBound + rng.nextInt(below: starts)
            for t in 0..<sequenceLength {
                batch.tokens.append(Int(corpus.bytes[o + t]))
                batch.targets.append(Int(corpus.bytes[o + t + 1]))
            }
        }
        return batch
    }
}
