/// A step's synchronisation on either side of the optimizer, the same for the MoE and the MLP
/// trainers: after the schedule, the sums of the stages' copies (the replica group's, then, with
/// AdamW sharded over DualPipe's mirror pair, the partner's half added); after AdamW, the updated
/// stage sent to the partner. Each runs under the watchdog, as a phase of the step's trace.
struct StepSync {
    let sums: StageGradientSums
    let mirrorShards: MirrorShardedUpdate?
    let watchdog: CollectiveWatchdog?
    /// The world rank of this rank's mirror partner, named when a transfer with it hangs.
    let partner: Int

    /// After the schedule. Returns the bytes this rank contributed.
    func sumGradients(step: Int, phases: StepRecorder) throws -> Int {
        var bytes = try phases.phase("gradient sums") { try watchdog.guarding(StepWaits.gradientSums(step)) { try sums.finish() } }
        if let mirrorShards {
            bytes += try phases.phase("mirror's gradient sums") {
                try watchdog.guarding(StepWaits.mirrorSums(step, partner: partner)) { try mirrorShards.reduceGradients() }
            }
        }
        return bytes
    }

    /// After AdamW updated the stage this rank owns. Returns the bytes this rank sent.
    func shareWeights(step: Int, phases: StepRecorder) throws -> Int {
        guard let mirrorShards else { return 0 }
        return try phases.phase("mirror's weights") {
            try watchdog.guarding(StepWaits.mirrorWeights(step, partner: partner)) { try mirrorShards.shareWeights() }
        }
    }
}
