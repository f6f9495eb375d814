/// 1F1B (PipeDream-flush): stage s runs N-s-1 warm-up forwards, then alternates one forward and
/// one full backward, then drains the remaining backwards. At most N-s activations are alive.
enum OneFOneBGenerator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        (0..<n).map { stage in
            let cell = { Chunk(stage: stage, microBatch: $0) }
            let warmUp = min(n - stage - 1, m)
            var actions = (0..<warmUp).map { Action.forward(cell($0)) }
            var backward = 0
            for forward in warmUp..<m {
                actions.append(.forward(cell(forward)))
                actions.append(.backward(cell(backward)))
                backward += 1
            }
            actions += (backward..<m).map { Action.backward(cell($0)) }
            return actions
        }
    }
}
