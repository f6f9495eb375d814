import Foundation
import MPI
import Model
import Tensor

/// `--check-reference`: rank 0 also runs the single-process `ReferenceTrainer` on the same seed
/// and data (M x EP micro-batches a step) and compares every step. The first step's micro-batch
/// losses must be equal bit for bit (same weights, kernels and data), its gradients (DualPipe's
/// two copies summed) within relative L2 error `gradientTolerance` per parameter tensor; later
/// steps' median micro-batch loss within `lossTolerance` relative and each one within
/// `flipTolerance`. After each update every copy of a stage must
/// hold the same bits. Collective: every rank creates it and calls `compare` and `afterUpdate`.
public final class ReferenceCheck {
    public static let gradientTolerance = 1e-5
    public static let lossTolerance = 1e-4
    /// Any one micro-batch after the first step: room for a routing choice that flipped.
    public static let flipTolerance = 1e-2

    let trainer: PipelineTrainer
    let corpus: ByteCorpus
    let seed: UInt64
    /// Rank 0 only.
    let reference: ReferenceTrainer?
    /// What broke, in the order found (rank 0).
    public private(set) var failures: [String] = []
    /// Rank 0's one-line summary of the last comparison.
    public private(set) var summary = ""
    /// The run's first step (the checkpoint's after `--resume`): its losses must equal the
    /// reference's bit for bit and its gradients are compared.
    private var firstStep = 0

    public init(trainer: PipelineTrainer, corpus: ByteCorpus, seed: UInt64) throws {
        self.trainer = trainer
        self.corpus = corpus
        self.seed = seed
        reference = trainer.grid.world.rank == 0 ? try Self.reference(of: trainer, corpus: corpus, seed: seed) : nil
        try waitForTheReference()
    }

    /// The whole model as one process trains it, on rank 0 (the job counts its memory before the
    /// start, with the pipeline's: `train`'s memory check).
    private static func reference(of trainer: PipelineTrainer, corpus: ByteCorpus, seed: UInt64) throws -> ReferenceTrainer {
        let model = trainer.model
        let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength, sequences: model.microBatchSize,
                                            seed: seed, span: split.training)
        let reference = try ReferenceTrainer(model: model, training: trainer.training, sampler: sampler, seed: seed,
                                             stageCount: trainer.configuration.partition.stages, memory: nil)
        reference.routerBiasSpeed = trainer.balancing.routerBiasSpeed
        return reference
    }

    /// After `--resume`: the reference continues from the same checkpoint (rank 0 reads it whole,
    /// whatever layout wrote it), and the run's first step is compared as step 0 would be.
    public func resume(from folder: String, manifest: CheckpointManifest) throws {
        if let reference { try Checkpointer.restore(reference, from: folder, manifest: manifest) }
        firstStep = manifest.step
        try waitForTheReference()
    }

    /// Between the gradient sync and the update: losses every step, gradients on the first.
    public func compare(step: Int, losses: [Float]) throws {
        let gradients = step == firstStep ? try gatherGradients() : nil
        if let reference { compare(step: step, losses: losses, gradients: gradients, with: reference) }
        try waitForTheReference()
    }

    private func compare(step: Int, losses: [Float], gradients: [[Float]]?, with reference: ReferenceTrainer) {
        _ = reference.computeGradients(step: step)
        let expected = reference.microBatchLosses
        if step == firstStep {
            let differing = zip(losses, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
            // Experts on other ranks, or split over replicas, run their rows in other batches (other
            // matrix shapes), which a BLAS may round differently; then 1e-5 relative is the rule.
            let sharded = trainer.configuration.expertParallel > 1 || trainer.configuration.replicas > trainer.model.experts
            let worstLoss = relativeErrors(losses, expected).max() ?? 0
            if let (mb, (got, want)) = differing.first, !sharded || worstLoss > Self.gradientTolerance {
                failures.append("step \(step): \(differing.count) of \(losses.count) micro-batch losses differ from the reference\(sharded ? " by more than 1e-5" : ""); first: micro-batch \(mb) \(got) vs \(want)")
            }
            let (worst, name) = compareGradients(gradients!, with: reference)
            summary = "micro-batch losses bit-identical: \(losses.count - differing.count)/\(losses.count); worst gradient error \(scientific(worst)) (\(name), limit \(scientific(Self.gradientTolerance)))"
            if worst > Self.gradientTolerance {
                failures.append("step \(step): gradient of \(name) has relative L2 error \(scientific(worst)) > \(scientific(Self.gradientTolerance))")
            }
        } else {
            // After an update the weights differ in their last bits (the copies' gradients were
            // summed in another order). A systematic error moves every micro-batch, so the median
            // must stay within lossTolerance; a token whose top-k choice flips on a near-tie moves
            // only its own micro-batch, by about 1e-3, so each one gets flipTolerance.
            let got = ReferenceTrainer.meanLoss(losses), want = ReferenceTrainer.meanLoss(expected)
            let errors = relativeErrors(losses, expected).sorted()
            let median = errors[(errors.count - 1) / 2], worst = errors.last ?? 0
            let error = relativeError(got, want)
            summary = "loss \(got) vs reference \(want), relative error \(scientific(error)); micro-batches: median \(scientific(median)) (limit \(scientific(Self.lossTolerance))), worst \(scientific(worst)) (limit \(scientific(Self.flipTolerance)))"
            if median > Self.lossTolerance {
                failures.append("step \(step): the median micro-batch loss is off the reference's by \(scientific(median)) relative > \(scientific(Self.lossTolerance))")
            }
            if worst > Self.flipTolerance {
                failures.append("step \(step): a micro-batch loss is off the reference's by \(scientific(worst)) relative > \(scientific(Self.flipTolerance))")
            }
        }
    }

    /// After the update: the reference takes its step too, and every copy of a stage must agree.
    public func afterUpdate(step: Int) throws {
        let differing = try ReplicaFingerprint.mismatches(stages: trainer.stages, world: trainer.grid.world)
        if let reference {
            _ = reference.applyUpdate(step: step)
            reference.balanceRouting()
            failures += differing.map { "step \(step): \($0)" }
            summary += differing.isEmpty ? "; stage copies identical" : "; stage copies DIFFER"
        }
        try waitForTheReference()
    }

    /// After an evaluation: the reference's forward-only losses on the same held-out micro-batches,
    /// within `lossTolerance` relative (the weights differ by the summation order of earlier
    /// gradients, so bit equality is not expected after the first update).
    public func compareEvaluation(step: Int, losses: [Float]) throws {
        if let reference { try compareEvaluation(step: step, losses: losses, with: reference) }
        try waitForTheReference()
    }

    private func compareEvaluation(step: Int, losses: [Float], with reference: ReferenceTrainer) throws {
        let model = trainer.model
        let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength, sequences: model.microBatchSize,
                                            seed: seed, span: split.evaluation)
        let want = reference.evaluate(sampler: sampler).loss, got = ReferenceTrainer.meanLoss(losses)
        let error = relativeError(got, want)
        summary += "; eval loss \(got) vs reference \(want), relative error \(scientific(error))"
        if error > Self.lossTolerance {
            failures.append("step \(step): eval loss \(got) vs reference \(want), relative error \(scientific(error)) > \(scientific(Self.lossTolerance))")
        }
    }

    /// The other ranks wait here while rank 0 runs the reference: the whole model on one rank,
    /// which may take longer than `--comm-timeout`. This barrier has no deadline, so the
    /// watchdog's waits after it count only the pipeline's own time.
    private func waitForTheReference() throws { try trainer.grid.world.barrier() }

    /// Rank 0 gets, from every rank, the gradients it holds the counting copy of: the dense
    /// parameters of all its primary stages (EP rank 0 only), then `[block, expert, gradients...]`
    /// for each primary expert replica. [world rank][floats]; empty elsewhere than rank 0.
    private func gatherGradients() throws -> [[Float]] {
        var mine: [Float] = []
        if trainer.grid.expertRank == 0 {
            for stage in trainer.primaryStages { mine += DenseParameters(stage).flatGradients() }
        }
        for stage in trainer.primaryStages {
            for layer in stage.expertSlots {
                for (k, expert) in layer.experts.enumerated() where layer.isPrimaryReplica(layer.localSlots.lowerBound + k) {
                    mine += [Float(layer.block), Float(layer.phy2log[layer.localSlots.lowerBound + k])] + expert.flatGradients()
                }
            }
        }
        return try trainer.grid.world.allgatherv(mine)
    }

    /// The worst relative L2 error over parameter tensors, and which tensor it was.
    private func compareGradients(_ gathered: [[Float]], with reference: ReferenceTrainer) -> (Double, String) {
        let configuration = trainer.configuration, grid = configuration.grid
        var worst = 0.0, worstName = "-", seen = 0
        func compare(_ owner: some ParameterOwner, _ flat: [Float], at start: Int) -> Int {
            var offset = start
            owner.visitParameters { p in
                let want = p.gradient.scalars
                let error = relativeL2(flat[offset..<offset + want.count], want)
                offset += want.count
                seen += 1
                if error > worst || worstName == "-" { (worst, worstName) = (error, p.name) }
            }
            return offset
        }
        // block index -> the reference's experts of that block
        let referenceExperts = Dictionary(uniqueKeysWithValues: reference.stages.flatMap(\.blocks).compactMap { block in
            ((block.ffn as? MoELayer)?.dispatcher as? LocalExpertDispatcher).map { (block.index, $0) }
        })
        for rank in 0..<grid.worldSize {
            let (pp, ep) = grid.coordinates(of: rank)
            let flat = gathered[rank]
            var offset = 0
            if ep == 0 {
                for stage in configuration.primaryStages(ofPipelineRank: pp) {
                    offset = compare(DenseParameters(reference.stages[stage]), flat, at: offset)
                }
            }
            while offset < flat.count {
                let block = Int(flat[offset]), e = Int(flat[offset + 1])
                offset = compare(referenceExperts[block]!.experts[e], flat, at: offset + 2)
            }
        }
        let expected = reference.stages.reduce(0) { total, stage in
            var count = 0
            stage.visitParameters { _ in count += 1 }
            return total + count
        }
        if seen != expected { (worst, worstName) = (.infinity, "\(seen) gradient tensors gathered, the reference has \(expected)") }
        return (worst, worstName)
    }
}

func scientific(_ value: Double) -> String { String(format: "%.1e", value) }
