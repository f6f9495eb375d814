import Foundation

/// What a run says besides its step lines: once, early, how long the steps left will take (what
/// a batch job's time limit has to cover, and whether it does), and at the end how long the steps
/// took. Times are of whole iterations on rank 0: the step, and any evaluation, rebalance or
/// checkpoint after it.
struct RunProgress {
    /// Iterations timed before the estimate; the first warms caches and buffer pools and is left
    /// out of it.
    static let estimateAfter = 10

    let firstStep: Int
    /// The step after the last one the run plans (`--steps`).
    let endStep: Int
    private(set) var iterationSeconds: [Double] = []
    private var tokens = 0

    init(firstStep: Int, endStep: Int) {
        (self.firstStep, self.endStep) = (firstStep, endStep)
    }

    /// Records the iteration of `step`; returns the estimate line once, after `estimateAfter`
    /// iterations when at least as many steps are left.
    mutating func record(step: Int, seconds: Double, tokens: Int) -> String? {
        iterationSeconds.append(seconds)
        self.tokens += tokens
        let left = endStep - 1 - step
        guard iterationSeconds.count == Self.estimateAfter, left >= Self.estimateAfter else { return nil }
        let typical = median(Array(iterationSeconds.dropFirst()))
        return "estimate: \(left) more step(s), about \(Self.duration(typical * Double(left))) at the median step so far ("
            + decimal(typical, 3) + " s; --steps \(endStep))"
    }

    /// The line after the last step this run trained.
    var summary: String {
        guard !iterationSeconds.isEmpty else { return "trained no step" }
        let wall = iterationSeconds.reduce(0, +)
        let last = firstStep + iterationSeconds.count - 1
        return "trained step(s) \(firstStep)-\(last) in \(Self.duration(wall)) (median step " + decimal(median(iterationSeconds), 3)
            + " s, " + decimal(Double(tokens) / wall, 0) + " tokens/s)"
    }

    /// `seconds` as people read a wait: `8.4 s`, `42 s`, `3m 05s`, `2h 07m`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return decimal(seconds, 1) + " s" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60)m " + String(format: "%02ds", whole % 60) }
        let minutes = (whole + 30) / 60
        return "\(minutes / 60)h " + String(format: "%02dm", minutes % 60)
    }
}
