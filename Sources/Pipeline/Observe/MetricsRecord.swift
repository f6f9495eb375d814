import Foundation

/// One line of a `--metrics` file: one JSON object per step, the same for the pipeline and the
/// reference trainer, so any two runs compare with a few lines of Python or jq.
public struct MetricsRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Float
    /// By global micro-batch id (EP rank e's micro-batch m is e * M + m).
    public var microbatchLosses: [Float]
    public var gradNorm: Float
    public var lr: Float
    public var tokens: Int
    public var stepSeconds: Double
    /// The schedule alone (F, B, W and their messages), without the gradient sums and the update.
    public var scheduleSeconds: Double
    public var tokensPerSecond: Double
    /// Sum over ranks of compute time / (ranks x the schedule's wall time).
    public var efficiency: Double
    /// [world ranks]
    public var computeSeconds: [Double]
    public var waitSeconds: [Double]
    public var sentBytes: [Int]
    public var syncBytes: [Int]
    public var residentBytes: [Int]
    /// [world ranks] seconds in expert dispatch and combine all-to-alls, and the part spent waiting.
    public var expertExchangeSeconds: [Double]
    public var expertExchangeWaitSeconds: [Double]
    /// [world ranks] the schedule's sends: seconds in flight, and the part blocked in their waits.
    public var sendSeconds: [Double]
    public var sendBlockedSeconds: [Double]
    /// The held-out loss when this step was followed by an evaluation.
    public var evalLoss: Float?

    enum CodingKeys: String, CodingKey {
        case step, loss, microbatchLosses = "microbatch_losses", gradNorm = "grad_norm", lr, tokens
        case stepSeconds = "step_seconds", scheduleSeconds = "schedule_seconds", tokensPerSecond = "tokens_per_second", efficiency
        case computeSeconds = "compute_seconds", waitSeconds = "wait_seconds", sentBytes = "sent_bytes"
        case syncBytes = "sync_bytes", residentBytes = "resident_bytes", evalLoss = "eval_loss"
        case expertExchangeSeconds = "expert_exchange_seconds", expertExchangeWaitSeconds = "expert_exchange_wait_seconds"
        case sendSeconds = "send_seconds", sendBlockedSeconds = "send_blocked_seconds"
    }

    public init(_ report: PipelineStepReport, evalLoss: Float?) {
        step = report.step
        loss = report.loss
        microbatchLosses = report.microBatchLosses
        gradNorm = report.gradientNorm
        lr = report.learningRate
        tokens = report.tokens
        stepSeconds = report.stepSeconds
        scheduleSeconds = report.pipelineSeconds
        tokensPerSecond = report.tokensPerSecond
        efficiency = report.efficiency
        computeSeconds = report.computeSeconds
        waitSeconds = report.waitSeconds
        sentBytes = report.sentBytes
        syncBytes = report.syncBytes
        residentBytes = report.residentBytes
        expertExchangeSeconds = report.expertExchangeSeconds
        expertExchangeWaitSeconds = report.expertExchangeWaitSeconds
        sendSeconds = report.sendSeconds
        sendBlockedSeconds = report.sendBlockedSeconds
        self.evalLoss = evalLoss
    }

    /// One JSON line (keys sorted, so lines diff cleanly).
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

/// Appends lines to a file created (truncated) when opened, or continued after its first bytes.
public final class LineWriter {
    private let handle: FileHandle
    public let path: String
    /// The lines the file held before `init(path:)` truncated it (0 where it was new or empty,
    /// and for a file continued).
    public let replacedLines: Int

    public init(path: String) throws {
        replacedLines = Self.lineCount(path)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw PipelineError("cannot create \(path): check that its folder exists and is writable")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PipelineError("cannot open \(path) for writing") }
        self.handle = handle
        self.path = path
    }

    /// Continues an existing file after its first `offset` bytes, dropping the rest.
    public init(appendingTo path: String, after offset: Int) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PipelineError("cannot open \(path) for writing") }
        try handle.truncate(atOffset: UInt64(offset))
        try handle.seekToEnd()
        self.handle = handle
        self.path = path
        replacedLines = 0
    }

    /// For a run's first lines, where opening replaced a file that held lines: a rerun with the
    /// same --metrics would otherwise lose the earlier run's without a word.
    public var replacementNote: String? {
        replacedLines == 0 ? nil : "metrics: \(path) replaced: it held \(replacedLines) line\(replacedLines == 1 ? "" : "s") of an earlier run"
    }

    /// Lines in the file at `path`, a last one cut off before its newline (a killed run's)
    /// included, read a MiB at a time; 0 where it cannot be read.
    static func lineCount(_ path: String) -> Int {
        guard let reader = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? reader.close() }
        var count = 0, last: UInt8?
        while let chunk = try? reader.read(upToCount: 1 << 20), !chunk.isEmpty {
            count += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            last = chunk.last
        }
        return count + (last.map { $0 == UInt8(ascii: "\n") ? 0 : 1 } ?? 0)
    }

    public func write(_ line: String) throws {
        try write(Data(line.utf8))
    }

    public func write(_ bytes: Data) throws {
        try handle.write(contentsOf: bytes)
    }

    deinit { try? handle.close() }
}
