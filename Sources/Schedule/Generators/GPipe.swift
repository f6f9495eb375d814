/// GPipe: every forward, then every full backward, in micro-batch order. Stage s on rank s.
enum GPipeGenerator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        (0..<n).map { stage in
            (0..<m).map { Action.forward(Chunk(stage: stage, microBatch: $0)) }
                + (0..<m).map { Action.backward(Chunk(stage: stage, microBatch: $0)) }
        }
    }
}
