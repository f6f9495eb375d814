/// ZB-H1 (Zero Bubble, arXiv 2401.10241): 1F1B with the backward split into B and W, where stage s
/// postpones its first s weight gradients so that B passes reach the first stage sooner, and the
/// postponed W fill the tail. The number of live micro-batches (F done, W not yet) never exceeds
/// N, the same peak as 1F1B. Needs M >= N.
enum ZeroBubbleH1Generator {
    static func program(ranks n: Int, microBatches m: Int) -> [[Action]] {
        (0..<n).map { stage in
            let cell = { Chunk(stage: stage, microBatch: $0) }
            var actions: [Action] = []
            var f = 0, b = 0, w = 0
            func F() { actions.append(.forward(cell(f))); f += 1 }
            func B() { actions.append(.backwardInput(cell(b))); b += 1 }
            func W() { actions.append(.backwardWeight(cell(w))); w += 1 }
            for _ in 0..<(n - stage) { F() }            // warm-up, one more than 1F1B's
            for _ in 0..<stage { B(); F() }             // W postponed: s of them outstanding
            for _ in 0..<(m - n) { B(); W(); F() }      // steady state
            for _ in 0..<(n - stage) { B(); W() }       // drain the backwards
            for _ in 0..<stage { W() }                  // the postponed weight gradients
            return actions
        }
    }
}
