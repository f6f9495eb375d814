/// Where causal self-attention's per-head operands live, for `sequences` sequences of
/// `sequenceLength` (T) tokens and `heads` heads of `headDim` columns (hidden = heads · headDim):
/// Q, K and V are column blocks of one fused projection `[tokens, 3·hidden]` (Q, then K, then V;
/// head h at h·headDim in each), the heads' outputs sit side by side in `[tokens, hidden]`, and
/// the scores are one `[T, T]` matrix per (sequence, head) in `[sequences·heads, T, T]`. Each
/// list is sequence-major, heads fastest.
public struct AttentionViews: Sendable, Equatable {
    /// Per (sequence, head): `[T, headDim]` in the fused projection.
    public let q, k, v: [MatrixView]
    /// Per (sequence, head): `[T, headDim]` in `[tokens, hidden]`.
    public let out: [MatrixView]
    /// Per (sequence, head): `[T, T]`.
    public let scores: [MatrixView]

    public init(sequences: Int, sequenceLength: Int, heads: Int, headDim: Int) {
        let hidden = heads * headDim
        func part(_ index: Int) -> [MatrixView] {
            MatrixView.heads(sequences: sequences, sequenceLength: sequenceLength, heads: heads, headDim: headDim,
                             rowStride: 3 * hidden, columnOffset: index * hidden)
        }
        (q, k, v) = (part(0), part(1), part(2))
        out = MatrixView.heads(sequences: sequences, sequenceLength: sequenceLength, heads: heads, headDim: headDim, rowStride: hidden)
        scores = MatrixView.stacked(count: sequences * heads, rows: sequenceLength, columns: sequenceLength)
    }
}
