/// DualPipeV, DualPipe cut in half: N ranks, 2N stages, every micro-batch enters at rank 0,
/// goes down through stages 0..<N and comes back up through stages N..<2N (stage s >= N on
/// rank 2N-1-s). Phase 0 is the way down, phase 1 the way back.
enum DualPipeVGenerator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        (0..<n).map { rank in
            EightSteps(
                halfRanks: n,
                halfRank: rank,
                perPhase: m,
                chunk: { phase, k in
                    Chunk(stage: phase == 0 ? rank : 2 * n - 1 - rank, microBatch: k)
                }
            ).program()
        }
    }
}
