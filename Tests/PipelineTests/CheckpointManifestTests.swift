import Model
@testable import Pipeline
import Schedule
import Testing

/// Why a run cannot resume from a checkpoint: each mismatch by the flag that sets it, and the
/// flags that would make the run fit, which must then fit.
@Suite struct CheckpointManifestTests {
    /// A run's manifest: PP x EP ranks, `m` micro-batches on each EP rank.
    func run(pp: Int, ep: Int, m: Int, model: ModelConfiguration = ModelConfiguration(), learningRate: Float = 3e-3,
             kind: ScheduleKind = .dualpipe, v: Int? = nil) throws -> CheckpointManifest {
        let configuration = try PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: ep, microBatches: m,
                                                      stagesPerRank: v, model: model, worldSize: pp * ep)
        let training = TrainingConfiguration(steps: 10, microBatches: configuration.globalMicroBatches, learningRate: learningRate)
        return CheckpointManifest(configuration: configuration, model: model, training: training, balancing: ExpertBalancing(), step: 3, seed: 1)
    }

    @Test func anotherEPWithAsManyMicroBatchesAStepFits() throws {
        let checkpoint = try run(pp: 2, ep: 2, m: 4)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 2, m: 4)) == nil)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 8)) == nil)
    }

    @Test func anotherGridNamesTheFlagsThatFit() throws {
        let checkpoint = try run(pp: 4, ep: 1, m: 16)
        let why = checkpoint.mismatch(with: try run(pp: 2, ep: 2, m: 4))
        #expect(why == "--pp 4, this run 2; micro-batches a step (--micro-batches x EP) 16 (16 x EP 1), this run 8 (4 x EP 2). "
            + "It fits with --pp 4 --ep 1 --micro-batches 16 (or train afresh with another --checkpoint-dir)")
        // The advice, taken on the same 4 ranks, fits.
        #expect(checkpoint.mismatch(with: try run(pp: 4, ep: 1, m: 16)) == nil)
        // On the same EP, the micro-batches are the per-rank flag's.
        #expect(checkpoint.mismatch(with: try run(pp: 4, ep: 1, m: 8))
            == "--micro-batches 16, this run 8. It fits with --micro-batches 16 (or train afresh with another --checkpoint-dir)")
    }

    @Test func aWorldTheCheckpointsPPDoesNotDivideGetsNoAdvice() throws {
        let why = try run(pp: 4, ep: 1, m: 8).mismatch(with: try run(pp: 2, ep: 1, m: 8)) ?? ""
        #expect(why.contains("this run's 2 ranks do not split into PP 4 (resume on a multiple of 4 ranks)"))
        #expect(!why.contains("It fits with"))
    }

    @Test func modelAndOptimizerMismatchesNameTheirFlags() throws {
        let checkpoint = try run(pp: 2, ep: 1, m: 4)
        let other = ModelConfiguration(moeLayers: [2, 3], sharedExpert: false)
        let why = checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: other, learningRate: 0.01)) ?? ""
        #expect(why.hasPrefix("MoE blocks 1,2,3, this run 2,3; --shared-expert, this run --no-shared-expert; --lr 0.003, this run 0.01. "))
        #expect(why.hasSuffix("It fits with --dense-layers 1 --shared-expert --lr 0.003 (or train afresh with another --checkpoint-dir)"))
    }

    /// Interleaved 1F1B's stages a rank cut the model differently: another V is another checkpoint.
    /// A manifest without V (before it could be chosen) held the schedule's default.
    @Test func anotherStagesPerRankNamesItsFlag() throws {
        let twelve = ModelConfiguration.layers(12)
        let checkpoint = try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B, v: 3)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B, v: 3)) == nil)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B))
            == "--stages-per-rank 3, this run 2. It fits with --stages-per-rank 3 (or train afresh with another --checkpoint-dir)")
        var older = try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B)
        older.stagesPerRank = nil
        #expect(older.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B)) == nil)
        #expect(older.mismatch(with: checkpoint) == "--stages-per-rank 2, this run 3. It fits with --stages-per-rank 2 (or train afresh with another --checkpoint-dir)")
    }
}
