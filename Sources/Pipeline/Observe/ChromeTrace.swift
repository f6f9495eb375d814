import Foundation
import Schedule

/// A measured step as a Chrome trace (JSON array format; opens in Perfetto and chrome://tracing):
/// one process per world rank (pid = rank), a complete event per compute action, named in the
/// schedule's short syntax (thread 0), one per message wait, named with its peer and tag (thread
/// 1), and one per phase of the step after the schedule, the gradient sums to AdamW (thread 2,
/// category `update`).
public struct ChromeTrace {
    struct Event: Encodable {
        var name: String
        var cat: String?
        var ph: String
        var pid: Int
        var tid: Int
        var ts: Double?
        var dur: Double?
        var args: Arguments
    }

    struct Arguments: Encodable {
        var name: String?
        var sortIndex: Int?
        var pp: Int?
        var ep: Int?
        var peer: Int?
        var tag: Int?
        /// Milliseconds an FB pair spent blocked inside, waiting for its backward's gradient.
        var blockedMilliseconds: Double?

        enum CodingKeys: String, CodingKey { case name, sortIndex = "sort_index", pp, ep, peer, tag, blockedMilliseconds = "blocked_ms" }
    }

    /// `timelines[rank]` are the spans of world rank `rank`, in seconds from the step's start.
    public static func json(timelines: [[TimelineEvent]], grid: GridShape, title: String) throws -> Data {
        var events: [Event] = []
        for (rank, timeline) in timelines.enumerated() {
            let (pp, ep) = grid.coordinates(of: rank)
            events.append(Event(name: "process_name", ph: "M", pid: rank, tid: 0,
                                args: Arguments(name: "rank \(rank) (pp \(pp), ep \(ep))")))
            events.append(Event(name: "process_sort_index", ph: "M", pid: rank, tid: 0, args: Arguments(sortIndex: rank)))
            for (tid, track) in ["compute", "message waits", "after the schedule"].enumerated() {
                events.append(Event(name: "thread_name", ph: "M", pid: rank, tid: tid, args: Arguments(name: track)))
            }
            for span in timeline {
                let (category, tid): (String, Int) = switch span.kind {
                case .compute: (span.name.prefix { $0.isLetter }.description, 0)
                case .wait: ("wait", 1)
                case .update: ("update", 2)
                }
                events.append(Event(name: span.name, cat: category, ph: "X", pid: rank, tid: tid,
                                    ts: span.start * 1e6, dur: (span.end - span.start) * 1e6,
                                    args: Arguments(pp: pp, ep: ep, peer: span.peer, tag: span.tag,
                                                    blockedMilliseconds: span.blocked.map { $0 * 1000 })))
            }
        }
        struct Document: Encodable {
            var traceEvents: [Event]
            var displayTimeUnit = "ms"
            var otherData: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Document(traceEvents: events, otherData: ["title": title]))
    }
}

extension ChromeTrace {
    /// The categories of the spans that are not compute actions: message waits, and the phases after the schedule.
    static let notCompute: Set<String> = ["wait", "update"]

    /// What one rank of a trace computed, in time order.
    public struct RankOrder: Sendable, Equatable {
        public var rank: Int
        public var pipelineRank: Int
        /// Compute actions in the short syntax.
        public var actions: [String]
    }

    /// Reads a trace written by `json(timelines:grid:title:)` back: each rank's compute actions
    /// ordered by start time.
    public static func computeOrder(of data: Data) throws -> [RankOrder] {
        struct Document: Decodable { var traceEvents: [Event] }
        struct Event: Decodable {
            var name: String, ph: String, pid: Int, tid: Int?, ts: Double?, cat: String?
            var args: Arguments?
        }
        struct Arguments: Decodable { var pp: Int? }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as DecodingError {
            throw PipelineError("not a trace written by dualpipe train --trace: \(describe(error))")
        } catch {
            throw PipelineError("not a trace written by dualpipe train --trace: \(error.localizedDescription)")
        }
        var byRank: [Int: (pp: Int, spans: [(Double, String)])] = [:]
        for event in document.traceEvents where event.ph == "X" && !notCompute.contains(event.cat ?? "") {
            guard let pp = event.args?.pp, let ts = event.ts else { throw PipelineError("trace event '\(event.name)' lacks its pp or ts") }
            byRank[event.pid, default: (pp, [])].spans.append((ts, event.name))
        }
        return byRank.keys.sorted().map { rank in
            let entry = byRank[rank]!
            return RankOrder(rank: rank, pipelineRank: entry.pp, actions: entry.spans.sorted { $0.0 < $1.0 }.map(\.1))
        }
    }
}

extension ChromeTrace {
    /// One compute action of a trace: the world rank that ran it and its compute time in
    /// milliseconds, the span's length less the time an FB pair spent blocked inside it
    /// (`blocked_ms`), as the trace's picture costs it.
    public struct ComputeSpan: Sendable, Equatable {
        public var rank: Int
        public var action: Action
        public var milliseconds: Double
    }

    /// Every compute action of a trace written by `json(timelines:grid:title:)`.
    public static func computeSpans(of data: Data) throws -> [ComputeSpan] {
        struct Document: Decodable { var traceEvents: [Event] }
        struct Event: Decodable {
            var name: String, ph: String, pid: Int, dur: Double?, cat: String?
            var args: Arguments?
        }
        struct Arguments: Decodable {
            var blocked: Double?
            enum CodingKeys: String, CodingKey { case blocked = "blocked_ms" }
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as DecodingError {
            throw PipelineError("not a trace written by dualpipe train --trace: \(describe(error))")
        }
        return try document.traceEvents.filter { $0.ph == "X" && !notCompute.contains($0.cat ?? "") }.map { event in
            guard let action = Action(event.name) else { throw PipelineError("trace event '\(event.name)' of rank \(event.pid) is not an action") }
            guard let dur = event.dur, dur.isFinite, dur >= 0 else { throw PipelineError("trace event '\(event.name)' of rank \(event.pid) lacks a duration >= 0") }
            return ComputeSpan(rank: event.pid, action: action, milliseconds: max(0, dur / 1000 - (event.args?.blocked ?? 0)))
        }
    }

    /// The compute milliseconds of every action in a trace, by kind: what `Costs(measured:)` turns
    /// into a simulation's costs.
    public static func computeMilliseconds(of data: Data) throws -> [Action.Op: [Double]] {
        byKind(try computeSpans(of: data))
    }

    public static func byKind(_ spans: [ComputeSpan]) -> [Action.Op: [Double]] {
        spans.reduce(into: [:]) { $0[$1.action.op, default: []].append($1.milliseconds) }
    }

    /// Each action's compute milliseconds, the mean over the world ranks that ran it (the ranks of
    /// an EP group run the same actions): what `StageCosts` turns into per-stage costs.
    public static func byAction(_ spans: [ComputeSpan]) -> [Action: Double] {
        let sums = spans.reduce(into: [Action: (total: Double, count: Int)]()) {
            $0[$1.action, default: (0, 0)].total += $1.milliseconds
            $0[$1.action, default: (0, 0)].count += 1
        }
        return sums.mapValues { $0.total / Double($0.count) }
    }
}

/// A decoding failure in a few words: what was wrong and where (`traceEvents[3].pid`).
func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
    switch error {
    case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)' at \(path(context.codingPath).isEmpty ? "the top level" : path(context.codingPath))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong or missing value at \(path(context.codingPath)): \(context.debugDescription)"
    case .dataCorrupted(let context): return "not valid JSON\(context.codingPath.isEmpty ? "" : " at \(path(context.codingPath))")"
    @unknown default: return "not readable"
    }
}
