#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the system's monotonic clock: the same clock for every process on a node, so the
/// ranks of one node line up in a trace.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// One span of a rank's step: a compute action, or a wait on a message.
public struct TimelineEvent: Codable, Sendable, Equatable {
    /// `update`: a phase of the step after the schedule (the gradient sums, AdamW, ...), counted
    /// in neither the compute nor the wait totals.
    public enum Kind: String, Codable, Sendable { case compute, wait, update }
    public var kind: Kind
    /// The action in the schedule's short syntax (`F3:12`, `FB3:12+4:7`), or what is awaited
    /// (`recv act(3:12) from 2 tag 24`).
    public var name: String
    /// Seconds since the step began (a barrier just before it).
    public var start: Double
    public var end: Double
    /// For waits: the pipeline rank at the other end and the MPI tag.
    public var peer: Int?
    public var tag: Int?
    /// For an FB pair that waited inside for its backward's gradient: the seconds it was blocked
    /// (also a wait span of its own), which are not compute.
    public var blocked: Double?

    /// The span's compute time: its length less what it spent blocked inside.
    public var busySeconds: Double { end - start - (blocked ?? 0) }
}

/// What one rank's interpreter did in a pass: time computing, time blocked on messages, bytes
/// sent, and (when asked) every span.
public final class StepRecorder {
    public private(set) var origin = 0.0
    public private(set) var computeSeconds = 0.0
    public private(set) var waitSeconds = 0.0
    public private(set) var sentBytes = 0
    /// Sends: seconds from each post until it was seen complete (between compute phases, or at
    /// its wait), summed; and the part of that spent blocked in their waits. What is not blocked
    /// was hidden under compute.
    public private(set) var sendSeconds = 0.0
    public private(set) var sendBlockedSeconds = 0.0
    public private(set) var events: [TimelineEvent] = []
    private var keepsEvents = false

    public init() {}

    /// Starts a pass at `origin` (monotonic seconds); `keepEvents` records every span for a trace.
    public func reset(origin: Double, keepEvents: Bool) {
        self.origin = origin
        computeSeconds = 0
        waitSeconds = 0
        sentBytes = 0
        sendSeconds = 0
        sendBlockedSeconds = 0
        events = []
        keepsEvents = keepEvents
    }

    /// `blocked`: seconds of a compute span spent in a wait recorded on its own.
    func record(_ kind: TimelineEvent.Kind, _ name: @autoclosure () -> String, start: Double, end: Double,
                peer: Int? = nil, tag: Int? = nil, blocked: Double = 0) {
        switch kind {
        case .compute: computeSeconds += end - start - blocked
        case .wait: waitSeconds += end - start
        case .update: break
        }
        if keepsEvents {
            events.append(TimelineEvent(kind: kind, name: name(), start: start - origin, end: end - origin, peer: peer, tag: tag,
                                        blocked: blocked > 0 ? blocked : nil))
        }
    }

    /// Runs one phase of the step after the schedule, and keeps its span for the trace.
    func phase<T>(_ name: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        let start = monotonicSeconds()
        defer { record(.update, name(), start: start, end: monotonicSeconds()) }
        return try body()
    }

    func recordSend(inFlight: Double, blocked: Double) {
        sendSeconds += inFlight
        sendBlockedSeconds += blocked
    }

    func countSent(floats: Int) { sentBytes += floats * MemoryLayout<Float>.size }
}
