/// ZB-V (Zero Bubble, arXiv 2401.10241, section 6): DualPipeV's V layout (stage r on the way down,
/// stage 2N-1-r on the way back, every micro-batch entering and leaving at rank 0) run with the
/// backward split into B and W and no overlapped pairs. Each rank fills the pipeline with
/// forwards of both chunks, then repeats F B W on its first chunk and F B W on its second, and
/// drains with the W it held back. With F, B and W of equal cost each rank idles only (N-1)F in
/// the step, the time the first forward takes to walk down to the last rank; its peak activations
/// are 1F1B's in units of the whole model.
///
/// The phases are written for at least 2N-1 micro-batches; with fewer, the actions of the
/// micro-batches that do not exist are dropped, which keeps every dependency in place.
enum ZeroBubbleVGenerator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        let planned = max(m, 2 * n - 1)
        return (0..<n).map { rank in
            let down = rank, back = 2 * n - 1 - rank
            var actions: [Action] = []
            // Per chunk, the next forward, input gradient and weight gradient.
            var f = [0, 0], b = [0, 0], w = [0, 0]
            func stage(_ chunk: Int) -> Int { chunk == 0 ? down : back }
            func F(_ c: Int) { actions.append(.forward(Chunk(stage: stage(c), microBatch: f[c]))); f[c] += 1 }
            func B(_ c: Int) { actions.append(.backwardInput(Chunk(stage: stage(c), microBatch: b[c]))); b[c] += 1 }
            func W(_ c: Int) { actions.append(.backwardWeight(Chunk(stage: stage(c), microBatch: w[c]))); w[c] += 1 }

            // Warm-up: forwards down until the way back reaches this rank, then both chunks.
            for _ in 0..<(2 * (n - rank) - 1) { F(0) }
            for _ in 0..<rank { F(1); F(0) }
            for _ in 0..<(n - rank) { F(1); B(1); W(1) }
            // Steady state: a forward, an input gradient and its weight gradient on each chunk.
            while f[1] < f[0] || f[0] < planned {
                if f[0] < planned { F(0) }
                B(0); W(0)
                F(1); B(1); W(1)
            }
            // Drain: the input gradients first (they are on the critical path back to rank 0),
            // the weight gradients after them.
            for _ in 0..<rank { B(0); B(1) }
            for _ in 0..<(n - rank) { B(0); W(0) }
            while w[1] < b[1] { W(1) }
            while w[0] < b[0] { W(0) }
            return actions.filter { $0.chunks.allSatisfy { $0.microBatch < m } }
        }
    }
}
