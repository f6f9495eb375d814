/// Interleaved Zero Bubble (PyTorch's `ScheduleInterleavedZeroBubble`; the Zero Bubble paper,
/// Qi et al. 2024, applied to Megatron-LM's virtual pipeline): Interleaved 1F1B's layout and
/// groups, with the backward split into B and W as in ZB1P. Rank r warms up with (V-1)G + N-r-1
/// forwards, half Interleaved 1F1B's slope, as the last rank's first B now returns sooner; then
/// each forward is followed by the next input gradient B, and from the (r+1)-th B on by the W of
/// the B r before it, so W fills the time rank r would wait for the gradient from the rank after;
/// the W held back run at the end.
enum InterleavedZeroBubbleGenerator {
    static func program(ranks n: Int, microBatches m: Int, stagesPerRank v: Int) -> [[Action]] {
        let total = v * m, g = Interleaved1F1BGenerator.groupSize(ranks: n, microBatches: m)
        let chunk = { (k: Int, rank: Int, backward: Bool) in
            Interleaved1F1BGenerator.chunk(k, rank: rank, ranks: n, stagesPerRank: v, groupSize: g, backward: backward)
        }
        return (0..<n).map { rank in
            let warmUp = min(total, (v - 1) * g + n - rank - 1)
            var actions = (0..<warmUp).map { Action.forward(chunk($0, rank, false)) }
            var weights = 0
            for k in 0..<total {
                if k + warmUp < total { actions.append(.forward(chunk(k + warmUp, rank, false))) }
                actions.append(.backwardInput(chunk(k, rank, true)))
                if k >= rank {
                    actions.append(.backwardWeight(chunk(weights, rank, true)))
                    weights += 1
                }
            }
            actions += (weights..<total).map { Action.backwardWeight(chunk($0, rank, true)) }
            return actions
        }
    }
}
