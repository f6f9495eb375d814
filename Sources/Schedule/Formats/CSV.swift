extension Schedule {
    /// One row per rank: `rank,action,action,...` in the short syntax (`F3:12`, `B3:12`, `W3:12`,
    /// `BW3:12`, `FB3:12+4:7`), after a header `rank,0,1,2,...` naming the steps; shorter rows are
    /// padded with empty cells so the file is a rectangle in a spreadsheet.
    public func csv() -> String {
        let steps = program.map(\.count).max() ?? 0
        var lines = [(["rank"] + (0..<steps).map(String.init)).joined(separator: ",")]
        for (rank, actions) in program.enumerated() {
            let cells = actions.map(\.description) + Array(repeating: "", count: steps - actions.count)
            lines.append(([String(rank)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads the CSV form back into per-rank programs. Rows must list ranks 0, 1, 2... in order.
    public static func program(csv: String) throws -> [[Action]] {
        let lines = csv.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
        guard let header = lines.first, header.hasPrefix("rank") else {
            throw ScheduleError.malformed("CSV schedule must start with a 'rank,...' header")
        }
        return try lines.dropFirst().enumerated().map { row, line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard Int(cells[0]) == row else {
                throw ScheduleError.malformed("CSV row \(row + 1) is for rank '\(cells[0])', expected \(row)")
            }
            return try cells.dropFirst().filter { !$0.isEmpty }.map { text in
                guard let action = Action(String(text)) else {
                    throw ScheduleError.malformed("'\(text)' in the row of rank \(row) is not an action")
                }
                return action
            }
        }
    }
}
