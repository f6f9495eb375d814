/// The eight steps shared by DualPipe and DualPipeV (deepseek-ai/DualPipe, `step()`), written once.
///
/// A rank sees two phases. Phase 0 is the direction whose entry is nearer to it, phase 1 the other.
/// Each phase's forwards and backwards run in micro-batch order; deferred weight gradients (W)
/// are taken first-in first-out. The geometry (which chunk is the k-th of a phase) is the caller's.
struct EightSteps {
    /// Ranks on one side of the middle: N/2 for DualPipe, N for DualPipeV.
    let halfRanks: Int
    /// The rank's distance from its nearest end: min(r, N-1-r) for DualPipe, r for DualPipeV.
    let halfRank: Int
    /// Micro-batches that pass through each phase: M/2 for DualPipe, M for DualPipeV.
    let perPhase: Int
    /// The k-th micro-batch of a phase on this rank.
    let chunk: (_ phase: Int, _ k: Int) -> Chunk

    /// The ranks next to the middle (DualPipe) or at the turn (DualPipeV) run their first main step
    /// as a separate F and BW rather than an overlapped pair: both inputs arrive from the neighbour
    /// at once, so nothing is gained by pairing them.
    private var isMiddle: Bool { halfRank == halfRanks - 1 }

    func program() -> [Action] {
        var b = Builder(chunk: chunk)
        let h = halfRank, outside = halfRanks - halfRank - 1

        for _ in 0..<(2 * outside) { b.forward(0) }                       // 1: nF0
        for _ in 0..<(h + 1) { b.forward(0); b.forward(1) }                // 2: nF0F1
        for _ in 0..<outside { b.backward(1, deferW: true); b.weight(); b.forward(1) } // 3: nB1W1F1
        let mainSteps = perPhase - 2 * halfRanks + h + 1
        for i in 0..<mainSteps {                                           // 4: nF0B1F1B0
            if i == 0 && isMiddle { b.forward(0); b.backward(1) } else { b.pair(0, 1) }
            b.pair(1, 0)
        }
        for _ in 0..<outside { b.backward(1); b.pair(1, 0) }               // 5: nB1F1B0
        // 6: nB1B0, whose second half defers W; an odd halfRank starts deferring one backward earlier.
        var deferW = false
        for i in 0..<(h + 1) {
            if i == (h + 1) / 2 && h % 2 == 1 { deferW = true }
            b.backward(1, deferW: deferW)
            if i == (h + 1) / 2 && h % 2 == 0 { deferW = true }
            b.backward(0, deferW: deferW)
        }
        for _ in 0..<outside { b.weight(); b.backward(0, deferW: true) }   // 7: nWB0
        for _ in 0..<(h + 1) { b.weight() }                                // 8: nW
        precondition(b.pendingW.isEmpty, "every deferred weight gradient is taken")
        return b.actions
    }

    private struct Builder {
        let chunk: (Int, Int) -> Chunk
        var actions: [Action] = []
        var nextForward = [0, 0]
        var nextBackward = [0, 0]
        var pendingW: [Chunk] = []
        var pendingHead = 0

        init(chunk: @escaping (Int, Int) -> Chunk) { self.chunk = chunk }

        mutating func takeForward(_ phase: Int) -> Chunk {
            defer { nextForward[phase] += 1 }
            return chunk(phase, nextForward[phase])
        }

        mutating func takeBackward(_ phase: Int) -> Chunk {
            defer { nextBackward[phase] += 1 }
            return chunk(phase, nextBackward[phase])
        }

        mutating func forward(_ phase: Int) { actions.append(.forward(takeForward(phase))) }

        mutating func backward(_ phase: Int, deferW: Bool = false) {
            let c = takeBackward(phase)
            if deferW {
                actions.append(.backwardInput(c))
                pendingW.append(c)
            } else {
                actions.append(.backward(c))
            }
        }

        mutating func weight() {
            actions.append(.backwardWeight(pendingW[pendingHead]))
            pendingHead += 1
            if pendingHead == pendingW.count { pendingW.removeAll(); pendingHead = 0 }
        }

        mutating func pair(_ forwardPhase: Int, _ backwardPhase: Int) {
            let f = takeForward(forwardPhase)
            actions.append(.forwardBackward(forward: f, backward: takeBackward(backwardPhase)))
        }
    }
}
