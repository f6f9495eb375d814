extension String {
    /// The string padded with spaces on the right to at least `width` characters, for aligned columns.
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// The string padded on the left, for right-aligned numbers.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Rows of cells as aligned text: the first `textColumns` columns left-aligned, the rest (numbers)
/// right-aligned but for a last column of text (`textLast`), two spaces between columns, one line
/// per row (a left-aligned last column is not padded).
func renderTable(_ rows: [[String]], textColumns: Int, textLast: Bool = false) -> String {
    guard let first = rows.first else { return "" }
    let widths = first.indices.map { column in rows.map { $0[column].count }.max()! }
    return rows.map { row in
        row.enumerated().map { column, cell in
            if textLast && column == row.count - 1 { return cell }
            return column < textColumns ? cell.padded(widths[column]) : cell.leftPadded(widths[column])
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

/// `items` as a sentence lists them: "0", "0 and 2", "0, 2 and 4".
func listed<T>(_ items: [T]) -> String {
    let words = items.map { "\($0)" }
    guard words.count > 1 else { return words.first ?? "" }
    return words.dropLast().joined(separator: ", ") + " and " + words.last!
}
