/// The corpus cut in two: training windows come from the head, evaluation windows from the tail,
/// so an evaluation loss is measured on bytes that training never saw.
public struct CorpusSplit: Sendable, Equatable {
    /// The share of the corpus held out for evaluation.
    public static let evaluationShare = 0.05

    /// Bytes training samples from.
    public let training: Range<Int>
    /// Bytes evaluation samples from (the last `evaluationShare` of the corpus, at least one window).
    public let evaluation: Range<Int>

    /// Cuts `bytes` bytes so that both parts hold at least one window of `sequenceLength` + 1 bytes.
    public init(bytes: Int, sequenceLength: Int, source: String = "the corpus") throws(ConfigurationError) {
        let window = sequenceLength + 1
        let tail = max(window, Int((Double(bytes) * Self.evaluationShare).rounded(.up)))
        guard bytes - tail >= window else {
            throw ConfigurationError("data \(source) has \(bytes) bytes, too short for sequence length \(sequenceLength): training and the held-out tail need \(window) bytes each, \(2 * window) in all")
        }
        training = 0..<(bytes - tail)
        evaluation = (bytes - tail)..<bytes
    }
}
