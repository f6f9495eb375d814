/// Looped BFS, breadth-first pipeline parallelism (Lamy-Poirier, arXiv 2211.05953) as PyTorch's
/// `ScheduleLoopedBFS` runs it: Megatron-LM's layout (stage s on rank s mod N, V stages a rank),
/// each rank running every micro-batch's forward of its first stage, then of its next, and so on
/// (so a loop around the ranks carries all M micro-batches at once), then the full backwards of
/// its stages in reverse, last micro-batch first. GPipe's order on each of a rank's stages in turn:
/// the most activations of any kind here (V x M a rank), the fewest passes over each stage's weights.
enum LoopedBFSGenerator {
    static func program(ranks n: Int, microBatches m: Int, stagesPerRank v: Int) -> [[Action]] {
        (0..<n).map { rank in
            let stages = (0..<v).map { rank + $0 * n }
            return stages.flatMap { stage in (0..<m).map { Action.forward(Chunk(stage: stage, microBatch: $0)) } }
                + stages.reversed().flatMap { stage in (0..<m).reversed().map { Action.backward(Chunk(stage: stage, microBatch: $0)) } }
        }
    }
}
