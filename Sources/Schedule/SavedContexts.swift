extension Schedule {
    /// [ranks] the most micro-batch contexts a rank keeps at once, for its memory: what a chunk's
    /// forward saves lives until its weight gradient (W, BW, or the backward half of an FB) has used
    /// it. B alone frees nothing, because W still needs each layer's input and B's output gradient;
    /// inside an FB the forward's context is counted before the backward's is freed. So this is
    /// at least `Simulation.peakActivations`, which ends a context at B (the zero-bubble papers'
    /// activation count), and equal to it where no B is split from its W.
    public var savedContexts: [Int] {
        program.map { Self.mostAlive($0, until: \.weightChunk) }
    }
}
