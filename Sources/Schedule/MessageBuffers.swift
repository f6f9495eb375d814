extension LoweredSchedule {
    /// The most message buffers `rank`'s program holds at once as the runtime runs it: a receive
    /// from its post until it is taken, through the compute for the gradient that an FB pair may
    /// take late (after its forward); a send from the compute that produces it, since the runtime
    /// posts an output as soon as it exists, until it is waited for. An output posted only after
    /// its compute is counted from the compute all the same, so this is at most one buffer a send
    /// above what a run allocates, and never below.
    public func messageBuffersHeld(byRank rank: Int) -> Int {
        let program = programs[rank]
        var held = 0, most = 0
        // Receives the next compute may take late, and sends it already counted.
        var takenLate = 0, countedSends = 0
        for (i, instruction) in program.enumerated() {
            switch instruction {
            case .postReceive:
                held += 1
            case .waitReceive(let t):
                if t.payload == .gradient, case .forwardBackward(_, let b)? = Self.nextCompute(in: program, after: i), b == t.chunk {
                    takenLate += 1
                } else {
                    held -= 1
                }
            case .compute:
                countedSends = program[(i + 1)...].prefix { if case .compute = $0 { false } else { true } }
                    .filter { if case .postSend = $0 { true } else { false } }.count
                held += countedSends
                most = max(most, held)
                held -= takenLate
                takenLate = 0
            case .postSend:
                if countedSends > 0 { countedSends -= 1 } else { held += 1 }
            case .waitSend:
                held -= 1
            }
            most = max(most, held)
        }
        return most
    }

    private static func nextCompute(in program: [Instruction], after index: Int) -> Action? {
        for instruction in program[(index + 1)...] {
            if case .compute(let action) = instruction { return action }
        }
        return nil
    }
}
