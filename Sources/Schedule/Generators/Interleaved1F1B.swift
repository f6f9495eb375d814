/// Interleaved 1F1B (Megatron-LM's virtual pipeline, Narayanan et al. 2021, "Efficient Large-Scale
/// Language Model Training on GPU Clusters"): N ranks, V x N stages, stage s on rank s mod N, so a
/// micro-batch passes every rank V times (V, the paper's v, is the model chunks a rank holds).
/// Each rank is 1F1B over its model chunks: forwards go in groups of N micro-batches through
/// chunk 0, then the same group through chunk 1, ...; backwards in the same groups through the
/// chunks in reverse. M that is no multiple of N goes in PyTorch's rounds: one group below 2N,
/// groups of N + 1 to 2N - 1 above. Smaller stages shrink the warm-up and drain by the chunk
/// count: bubble (N-1)(F+B) with F and B of one stage, a 1/V of 1F1B's on the same model.
enum Interleaved1F1BGenerator {
    static func program(ranks n: Int, microBatches m: Int, stagesPerRank v: Int) -> [[Action]] {
        let total = v * m, g = groupSize(ranks: n, microBatches: m)
        func chunk(_ k: Int, rank: Int, backward: Bool) -> Chunk {
            Self.chunk(k, rank: rank, ranks: n, stagesPerRank: v, groupSize: g, backward: backward)
        }
        return (0..<n).map { rank in
            // Megatron's warm-up: enough forwards that the first backward's gradient arrives from
            // the last stage as this rank finishes them; all of them when every micro-batch of
            // the step fits in one group of N (M = N).
            let warmUp = m == n ? total : min(total, 2 * (n - rank - 1) + (v - 1) * g)
            var actions = (0..<warmUp).map { Action.forward(chunk($0, rank: rank, backward: false)) }
            for k in 0..<(total - warmUp) {
                actions.append(.forward(chunk(k + warmUp, rank: rank, backward: false)))
                actions.append(.backward(chunk(k, rank: rank, backward: true)))
            }
            actions += (total - warmUp..<total).map { Action.backward(chunk($0, rank: rank, backward: true)) }
            return actions
        }
    }

    /// The k-th forward (or backward) of a rank, counted over all its chunks: group k / (VG) of
    /// G micro-batches, chunk (k mod VG) / G of it (reversed for backwards), micro-batch k mod G
    /// of the group.
    static func chunk(_ k: Int, rank: Int, ranks n: Int, stagesPerRank v: Int, groupSize g: Int, backward: Bool) -> Chunk {
        let within = k % (v * g)
        let modelChunk = backward ? v - 1 - within / g : within / g
        return Chunk(stage: modelChunk * n + rank, microBatch: k / (v * g) * g + k % g)
    }

    /// G: the micro-batches that go through a chunk together, PyTorch's rounds: M split into
    /// max(1, M / N) equal groups (`ScheduleConfiguration.splitsIntoRounds`). N for M a multiple
    /// of N (Megatron-LM's rule), all M below 2N, and groups of N + 1 to 2N - 1 otherwise, whose
    /// order needs deeper channels under MPI (`Schedule.lowered()` finds the depth).
    static func groupSize(ranks n: Int, microBatches m: Int) -> Int {
        m / max(1, m / n)
    }
}
