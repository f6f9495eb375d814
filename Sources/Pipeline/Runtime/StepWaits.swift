/// The waits around a step's schedule as the watchdog names them (`watchdog: rank 2 waited 3.0 s
/// for the gradient norm of step 1`). The MoE and the MLP trainers wait on the same things, and
/// the tests and users read these words, so each is spelled once.
enum StepWaits {
    static func barrier(_ step: Int) -> String { "every rank at the start of step \(step) (a barrier)" }
    static func gradientSums(_ step: Int) -> String { "the gradient sums of step \(step)" }
    static func mirrorSums(_ step: Int, partner: Int) -> String { "the mirror pair's gradient sums of step \(step) with world rank \(partner)" }
    static func losses(_ step: Int) -> String { "the losses of step \(step)" }
    static func gradientNorm(_ step: Int) -> String { "the gradient norm of step \(step)" }
    static func mirrorWeights(_ step: Int, partner: Int) -> String { "the mirror pair's weights of step \(step) with world rank \(partner)" }
    static func report(_ step: Int) -> String { "the report of step \(step)" }
}
