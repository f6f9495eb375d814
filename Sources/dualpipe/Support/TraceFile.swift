import ArgumentParser
import Foundation
import JSONDiagnostics
import Pipeline

/// A `dualpipe train --trace` file read for a flag: its bytes once they are JSON with a
/// traceEvents array of objects, and what the Pipeline module reads from it, each failure said
/// with the flag, the path and what was wrong.
struct TraceFile {
    let flag: String
    let path: String
    let data: Data

    init(_ path: String, flag: String) throws {
        self.flag = flag
        self.path = path
        data = try Files.read(path, flag: flag)
        let document: Any
        do { document = try JSONSerialization.jsonObject(with: data) } catch { throw ValidationError("\(flag) '\(path)': \(JSONProblem.syntax(data))") }
        guard let events = (document as? [String: Any])?["traceEvents"] as? [Any], events.allSatisfy({ $0 is [String: Any] }) else {
            throw ValidationError("\(notATrace) (it needs a traceEvents array of objects)")
        }
    }

    private var notATrace: String { "\(flag) '\(path)': not a trace written by dualpipe train --trace" }

    /// `read(data)`, its errors said for this flag and file.
    func decode<T>(_ read: (Data) throws -> T) throws -> T {
        do { return try read(data) } catch {
            let reason = CommandFailure.describe(error)
            throw ValidationError(reason.contains("DecodingError") ? "\(notATrace) (an event lacks name, ph or pid, or has a field of the wrong type)" : "\(flag) '\(path)': \(reason)")
        }
    }
}
