import Foundation

/// JSONDecoder's errors in a few words a user can act on: for a syntax error the line and column
/// (JSONSerialization knows the offset, the decoder does not), for a shape error the key path and
/// what was expected there. Its own module, since EPLB and Schedule both read JSON and neither
/// depends on the other.
public enum JSONProblem {
    /// "line 3, column 7: invalid value", "missing the key 'ranks'", "program[0][2].stage: expected
    /// an integer, found a string".
    public static func describe(_ error: DecodingError, in data: Data) -> String {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return syntax(data)
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(sentence(context.debugDescription))"
        case .keyNotFound(let key, let context):
            let place = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing the key '\(key.stringValue)'\(place)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(name(type)) (\(sentence(context.debugDescription)))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(name(type)), found null"
        @unknown default:
            return sentence("\(error)")
        }
    }

    /// Where the text stops being JSON.
    public static func syntax(_ data: Data) -> String {
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return "the file is empty, not JSON" }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "not valid JSON"
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
            // "Invalid value around character 15." where 15 is a byte offset.
            if let marker = text.range(of: " around character "),
                let offset = Int(text[marker.upperBound...].prefix(while: \.isNumber))
            {
                let (line, column) = position(of: offset, in: data)
                return "not valid JSON at line \(line), column \(column): \(sentence(String(text[..<marker.lowerBound])))"
            }
            if text.contains("end of file") {
                let (line, column) = position(of: data.count, in: data)
                return "not valid JSON: it ends early, at line \(line), column \(column)"
            }
            return "not valid JSON: \(sentence(text))"
        }
    }

    /// 1-based line and column of a byte offset.
    static func position(of offset: Int, in data: Data) -> (line: Int, column: Int) {
        let before = data.prefix(max(0, offset))
        let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let column = before.count - (before.lastIndex(of: 0x0A).map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
        return (line, column)
    }

    static func path(_ keys: [any CodingKey]) -> String {
        let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : text.isEmpty ? "the top level" : text
    }

    static func name(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        default: "\(type)".contains("Array") ? "an array" : "\(type)".contains("Dictionary") ? "an object" : "\(type)"
        }
    }

    /// A Foundation sentence as a clause: first letter lowered, final period dropped.
    public static func sentence(_ text: String) -> String {
        var clause = text.trimmingCharacters(in: .whitespaces)
        if clause.hasSuffix(".") { clause.removeLast() }
        guard let first = clause.first else { return clause }
        return first.lowercased() + clause.dropFirst()
    }
}
