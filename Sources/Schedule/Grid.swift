/// The step-by-rank grid printed when validation fails: one row per rank, one column per step,
/// the offending cells marked `>>like this<<`. Long programs show a window around the marks.
struct Grid {
    /// [ranks][steps] cell text.
    let cells: [[String]]
    /// Marked (rank, step) cells.
    let marks: [(rank: Int, step: Int)]
    var window = 6

    func render() -> String {
        let steps = cells.map(\.count).max() ?? 0
        let markedSteps = marks.map(\.step)
        let lo = max(0, (markedSteps.min() ?? 0) - window)
        let hi = min(steps, (markedSteps.max() ?? 0) + window + 1)
        func text(_ r: Int, _ k: Int) -> String {
            guard k < cells[r].count else { return "" }
            return marks.contains { $0.rank == r && $0.step == k } ? ">>\(cells[r][k])<<" : cells[r][k]
        }
        let columns = Array(lo..<hi)
        let widths = columns.map { k in
            max(String(k).count, (0..<cells.count).map { text($0, k).count }.max() ?? 0)
        }
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        let label = "rank"
        let labelWidth = max(label.count, String(cells.count - 1).count)
        var lines = [pad("step", labelWidth) + " | " + zip(columns, widths).map { pad(String($0), $1) }.joined(separator: " ")]
        for r in cells.indices {
            lines.append(pad(String(r), labelWidth) + " | " + zip(columns, widths).map { pad(text(r, $0), $1) }.joined(separator: " "))
        }
        if lo > 0 || hi < steps { lines.append("(steps \(lo)..<\(hi) of \(steps))") }
        return lines.joined(separator: "\n")
    }
}
