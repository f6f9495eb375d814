extension Instruction: CustomStringConvertible {
    /// `recv`, `wait-recv`, `send`, `wait-send` with the message, or `compute` with the action.
    public var description: String {
        switch self {
        case .postReceive(let t): "recv      \(t)"
        case .waitReceive(let t): "wait-recv \(t)"
        case .compute(let a): "compute   \(a)"
        case .postSend(let t): "send      \(t)"
        case .waitSend(let t): "wait-send \(t)"
        }
    }
}

extension LoweredSchedule {
    /// The instruction lists, rank after rank, one instruction per line.
    public func text() -> String {
        let depth = channelDepth == 1 ? "1 message" : "\(channelDepth) messages"
        var lines = ["\(schedule.kind.title) lowered: \(schedule.ranks) ranks, \(schedule.stages) stages, \(schedule.microBatches) micro-batches, \(depth) in flight per channel"]
        for (rank, instructions) in programs.enumerated() {
            lines.append("rank \(rank): \(instructions.count) instructions")
            lines += instructions.map { "  " + $0.description }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
