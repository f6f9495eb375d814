/// DualPipe: N ranks (even), N stages. Micro-batches 0..<M/2 enter at rank 0 and flow down
/// (stage s on rank s); M/2..<M enter at rank N-1 and flow up (stage s on rank N-1-s).
/// A rank's phase 0 is the direction entering on its own side of the middle.
enum DualPipeGenerator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        (0..<n).map { rank in
            let secondHalf = rank >= n / 2
            return EightSteps(
                halfRanks: n / 2,
                halfRank: min(rank, n - 1 - rank),
                perPhase: m / 2,
                chunk: { phase, k in
                    let down = (phase == 0) != secondHalf
                    return down ? Chunk(stage: rank, microBatch: k)
                                : Chunk(stage: n - 1 - rank, microBatch: m / 2 + k)
                }
            ).program()
        }
    }
}
