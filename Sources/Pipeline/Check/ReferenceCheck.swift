import Foundation
import MPI
import Model
import Tensor

/// `--check-reference`: rank 0 also runs the single-process `ReferenceTrainer` on the same seed
/// and data (M x EP micro-batches a step) and compares every step. The first step's micro-batch
/// losses must be equal bit for bit (same weights, kernels and data), its gradients (DualPipe's
/// two copies summed) within relative L2 error `gradientTolerance` per parameter tensor; later
/// steps' losses within `lossTolerance` relative. After each update every copy of a stage must
/// hold the same bits. Collective: every rank calls `compare` and `afterUpdate`.
public final class ReferenceCheck {
    public static let gradientTolerance = 1e-5
    public static let lossTolerance = 1e-4

    let trainer: PipelineTrainer
    let corpus: ByteCorpus
    let seed: UInt64
    /// Rank 0 only.
    let reference: ReferenceTrainer?
    /// What broke, in the order found (rank 0).
    public private(set) var failures: [String] = []
    /// Rank 0's one-line summary of the last comparison.
    public private(set) var summary = ""

    public init(trainer: PipelineTrainer, corpus: ByteCorpus, seed: UInt64) throws {
        self.trainer = trainer
        self.corpus = corpus
        self.seed = seed
        guard trainer.grid.world.rank == 0 else { reference = nil; return }
        let model = trainer.model
        let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength, sequences: model.microBatchSize,
                                            seed: seed, span: split.training)
        reference = try ReferenceTrainer(model: model, training: trainer.training, sampler: sampler, seed: seed,
                                         stageCount: trainer.configuration.partition.stages)
    }

    /// Between the gradient sync and the update: losses every step, gradients on the first.
    public func compare(step: Int, losses: [Float]) throws {
        let gradients = step == 0 ? try gatherGradients() : nil
        guard let reference else { return }
        _ = reference.computeGradients(step: step)
        let expected = reference.microBatchLosses
        if step == 0 {
            let differing = zip(losses, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
            if let (mb, (got, want)) = differing.first {
                failures.append("step 0: \(differing.count) of \(losses.count) micro-batch losses differ from the reference; first: micro-batch \(mb) \(got) vs \(want)")
            }
            let (worst, name) = compareGradients(gradients!, with: reference)
            summary = "micro-batch losses bit-identical: \(losses.count - differing.count)/\(losses.count); worst gradient error \(scientific(worst)) (\(name), limit \(scientific(Self.gradientTolerance)))"
            if worst > Self.gradientTolerance {
                failures.append("step 0: gradient of \(name) has relative L2 error \(scientific(worst)) > \(scientific(Self.gradientTolerance))")
            }
        } else {
            let got = ReferenceTrainer.meanLoss(losses), want = ReferenceTrainer.meanLoss(expected)
            let error = Double(abs(got - want)) / max(Double(abs(want)), 1e-30)
            summary = "loss \(got) vs reference \(want), relative error \(scientific(error)) (limit \(scientific(Self.lossTolerance)))"
            if error > Self.lossTolerance {
                failures.append("step \(step): loss \(got) vs reference \(want), relative error \(scientific(error)) > \(scientific(Self.lossTolerance))")
            }
        }
    }

    /// After the update: the reference takes its step too, and every copy of a stage must agree.
    public func afterUpdate(step: Int) throws {
        let differing = try ReplicaFingerprint.mismatches(stages: trainer.stages, world: trainer.grid.world)
        guard let reference else { return }
        _ = reference.applyUpdate(step: step)
        failures += differing.map { "step \(step): \($0)" }
        summary += differing.isEmpty ? "; stage copies identical" : "; stage copies DIFFER"
    }

    /// After an evaluation: the reference's forward-only losses on the same held-out micro-batches,
    /// within `lossTolerance` relative (the weights differ by the summation order of earlier
    /// gradients, so bit equality is not expected after the first update).
    public func compareEvaluation(step: Int, losses: [Float]) throws {
        guard let reference else { return }
        let model = trainer.model
        let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength, sequences: model.microBatchSize,
                                            seed: seed, span: split.evaluation)
        let want = reference.evaluate(sampler: sampler).loss, got = ReferenceTrainer.meanLoss(losses)
        let error = Double(abs(got - want)) / max(Double(abs(want)), 1e-30)
        summary += "; eval loss \(got) vs reference \(want), relative error \(scientific(error))"
        if error > Self.lossTolerance {
            failures.append("step \(step): eval loss \(got) vs reference \(want), relative error \(scientific(error)) > \(scientific(Self.lossTolerance))")
        }
    }

    /// Rank 0 gets the primary copy of every stage's gradients, from the EP rank 0 of its
    /// pipeline rank: [world rank][floats], empty for other ranks.
    private func gatherGradients() throws -> [[Float]] {
        let mine = trainer.grid.expertRank == 0 ? trainer.primaryStages.flatMap { $0.flatGradients() } : []
        return try trainer.grid.world.allgatherv(mine)
    }

    /// The worst relative L2 error over parameter tensors, and which tensor it was.
    private func compareGradients(_ gathered: [[Float]], with reference: ReferenceTrainer) -> (Double, String) {
        let configuration = trainer.configuration, grid = configuration.grid
        var worst = 0.0, worstName = "-"
        for pp in 0..<grid.pipeline {
            let flat = gathered[grid.worldRank(pipeline: pp, expert: 0)]
            var offset = 0
            for stage in configuration.primaryStages(ofPipelineRank: pp) {
                reference.stages[stage].visitParameters { p in
                    let want = p.gradient.scalars
                    var difference = 0.0, norm = 0.0
                    for (k, w) in want.enumerated() {
                        let d = Double(flat[offset + k]) - Double(w)
                        difference += d * d
                        norm += Double(w) * Double(w)
                    }
                    offset += want.count
                    let error = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
                    if error > worst || worstName == "-" { (worst, worstName) = (error, p.name) }
                }
            }
            precondition(offset == flat.count, "pipeline rank \(pp) sent \(flat.count) gradients, its stages have \(offset)")
        }
        return (worst, worstName)
    }
}

func scientific(_ value: Double) -> String { String(format: "%.1e", value) }
