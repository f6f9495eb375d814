/// The fastest of repetitions of `body`, repeating until they have taken about `seconds` (at
/// least once): a probe's best case, which a busy machine can only slow down.
func fastestRepetition(over seconds: Double, _ body: () -> Void) -> Double {
    var best = Double.infinity, spent = 0.0
    repeat {
        let start = ContinuousClock.now
        body()
        let elapsed = (ContinuousClock.now - start).inSeconds
        best = min(best, elapsed)
        spent += elapsed
    } while spent < seconds
    return best
}
