import MPI
import Pipeline

/// What `bench schedules` says on standard error while its rounds run (rank 0 only), since its
/// tables come at the end and a run of `--model mlp`, or across nodes, takes minutes: a line at
/// the start, then one after each round with the time so far and an estimate of the rest.
/// Standard output keeps the tables.
struct RoundProgress {
    let rounds: Int
    let started: Double
    private(set) var roundSeconds: [Double] = []
    private var roundStart: Double

    init(rounds: Int, now: Double = monotonicSeconds()) {
        self.rounds = rounds
        started = now
        roundStart = now
    }

    /// The line before the first round: how many trainers take turns, and for how many rounds.
    func opening(trainers: Int, onBothLinks: Bool) -> String {
        "bench schedules: \(trainers) trainers, \(rounds) rounds of a step each (the first a warm-up)"
            + (onBothLinks ? ", each on both links" : "") + "; the tables come at the end, on standard output"
    }

    /// The line after round `roundSeconds.count` (1-based): the warm-up round (the first) is left
    /// out of the estimate once a timed round exists, as its first touches of memory make it longer.
    mutating func roundDone(now: Double = monotonicSeconds()) -> String {
        roundSeconds.append(now - roundStart)
        roundStart = now
        let done = roundSeconds.count, left = rounds - done
        let timed = roundSeconds.dropFirst()
        let perRound = timed.isEmpty ? roundSeconds[0] : timed.reduce(0, +) / Double(timed.count)
        let what = done == 1 ? " (the warm-up)" : ""
        let rest = left == 0 ? "" : "; about \(RunProgress.duration(perRound * Double(left))) left"
        return "bench schedules: round \(done) of \(rounds)\(what) done, \(RunProgress.duration(now - started)) so far\(rest)"
    }
}
