extension Schedule {
    /// One line per rank, for a terminal. A token is an op and a micro-batch (`F12`, `B3`, `W3`,
    /// `BW7`; `F12&B3` is an overlapped forward and full backward); on DualPipeV a trailing `'`
    /// marks the stage on the way back (stage >= N), where micro-batch ids repeat (ZB-V's too), and
    /// on the looped kinds each pass over the ranks after the first adds one (`F3''` on the third).
    public func text() -> String {
        var lines = ["\(kind.title): \(ranks) ranks, \(stages) stages, \(microBatches) micro-batches"]
        let labels = (0..<ranks).map { "rank \($0) (stage\(stagesHeld(by: $0).count > 1 ? "s" : "") \(stagesHeld(by: $0).map(String.init).joined(separator: ",")))" }
        let width = labels.map(\.count).max() ?? 0
        for (rank, actions) in program.enumerated() {
            let label = labels[rank] + String(repeating: " ", count: width - labels[rank].count)
            lines.append(label + " | " + actions.map(token).joined(separator: " "))
        }
        lines.append("F forward, B input gradient (its W comes later), W weight gradient, BW full backward, F&B overlapped pair")
        return lines.joined(separator: "\n") + "\n"
    }

    private func token(_ action: Action) -> String {
        func cell(_ c: Chunk) -> String {
            "\(c.microBatch)" + String(repeating: "'", count: c.stage / ranks)
        }
        return switch action {
        case .forwardBackward(let f, let b): "F\(cell(f))&B\(cell(b))"
        default: action.op.rawValue + cell(action.chunks[0])
        }
    }
}
