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

    /// Another schedule, PP or V fits as long as the micro-batches a step stay: the stages are cut
    /// anew from the checkpoint's, and the resume says what it was written on.
    @Test func anotherLayoutWithAsManyMicroBatchesAStepFits() throws {
        let checkpoint = try run(pp: 4, ep: 1, m: 16)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 2, m: 8, kind: .oneFOneB)) == nil)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 16)) == nil)
        let recut = try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 2, expertParallel: 2, microBatches: 8,
                                              model: ModelConfiguration(), worldSize: 4)
        #expect(checkpoint.layoutChange(to: recut) == "written on DualPipe, PP 4 x EP 1: its 4 stages re-cut into 2, experts placed anew")
        let moved = try PipelineConfiguration(kind: .zb1p, pipelineRanks: 4, expertParallel: 1, microBatches: 16,
                                              model: ModelConfiguration(), worldSize: 4)
        #expect(checkpoint.layoutChange(to: moved) == "written on DualPipe, PP 4 x EP 1: the same 4 stages on other ranks, experts placed anew")
        let same = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 16,
                                             model: ModelConfiguration(), worldSize: 4)
        #expect(checkpoint.layoutChange(to: same) == nil)
        #expect(checkpoint.layoutChange(to: try same.ordered(.mirror)) == nil)
        let oneStage = try run(pp: 1, ep: 4, m: 4, kind: .gpipe)
        #expect(oneStage.layoutChange(to: moved) == "written on GPipe, PP 1 x EP 4: its one stage re-cut into 4, experts placed anew")
    }

    @Test func otherMicroBatchesAStepNameTheFlagThatFits() throws {
        let checkpoint = try run(pp: 4, ep: 1, m: 16)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 2, m: 4))
            == "micro-batches a step (--micro-batches x EP) 16 (16 x EP 1), this run 8 (4 x EP 2). "
            + "It fits with --micro-batches 8 (or train afresh with another --checkpoint-dir)")
        // The advice, taken on the same ranks, fits.
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 2, m: 8)) == nil)
        // On the same EP, the micro-batches are the per-rank flag's.
        #expect(checkpoint.mismatch(with: try run(pp: 4, ep: 1, m: 8))
            == "--micro-batches 16, this run 8. It fits with --micro-batches 16 (or train afresh with another --checkpoint-dir)")
        // 16 micro-batches do not split over EP 3: no advice.
        let why = checkpoint.mismatch(with: try run(pp: 1, ep: 3, m: 2, kind: .gpipe)) ?? ""
        #expect(why.hasPrefix("micro-batches a step (--micro-batches x EP) 16 (16 x EP 1), this run 6 (2 x EP 3)") && !why.contains("It fits with"))
    }

    @Test func modelAndOptimizerMismatchesNameTheirFlags() throws {
        let checkpoint = try run(pp: 2, ep: 1, m: 4)
        let other = ModelConfiguration(moeLayers: [2, 3], sharedExpert: false)
        let why = checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: other, learningRate: 0.01)) ?? ""
        #expect(why.hasPrefix("MoE blocks 1,2,3, this run 2,3; --shared-expert, this run --no-shared-expert; --lr 0.003, this run 0.01. "))
        #expect(why.hasSuffix("It fits with --dense-layers 1 --shared-expert --lr 0.003 (or train afresh with another --checkpoint-dir)"))
    }

    /// Interleaved 1F1B's stages a rank cut the model differently: another V is another layout. A
    /// manifest without V (before it could be chosen) held the schedule's default.
    @Test func anotherStagesPerRankIsAnotherLayout() throws {
        let twelve = ModelConfiguration.layers(12)
        let checkpoint = try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B, v: 3)
        #expect(checkpoint.mismatch(with: try run(pp: 2, ep: 1, m: 4, model: twelve, kind: .interleaved1F1B)) == nil)
        let vTwo = try PipelineConfiguration(kind: .interleaved1F1B, pipelineRanks: 2, expertParallel: 1, microBatches: 4,
                                             model: twelve, worldSize: 2)
        #expect(checkpoint.layoutChange(to: vTwo) == "written on Interleaved 1F1B (V 3), PP 2 x EP 1: its 6 stages re-cut into 4, experts placed anew")
        var older = checkpoint
        older.stagesPerRank = nil
        #expect(older.layoutChange(to: vTwo) == nil)
    }

    /// `dualpipe checkpoint` prints these for a resume to repeat: each field by its flag, in the
    /// help's order, the MoE blocks by --dense-layers where it can give them.
    @Test func resumeFlagsNameTheCheckpointsValues() throws {
        let other = ModelConfiguration(layers: 4, moeLayers: [2, 3], sharedExpert: false)
        let flags = try run(pp: 2, ep: 1, m: 4, model: other, learningRate: 0.01).resumeFlags
        #expect(flags.prefix(5) == ["--hidden 128", "--heads 4", "--layers 4", "--dense-layers 2", "--ffn-hidden 512"])
        #expect(flags.contains("--no-shared-expert") && flags.contains("--lr 0.01") && flags.last == "--seed 1")
        let scattered = try run(pp: 2, ep: 1, m: 4, model: ModelConfiguration(layers: 4, moeLayers: [1, 3])).resumeFlags
        #expect(scattered.contains("(MoE blocks 1,3)"))
        #expect(try run(pp: 2, ep: 1, m: 4, model: .layers(12), kind: .interleaved1F1B, v: 3).layoutTitle == "Interleaved 1F1B (V 3), PP 2 x EP 1")
    }
}
