import MPI
import Model
import Tensor

/// `--check-reference` for `--model mlp`: every rank runs `MLPReference` beside the pipeline (the
/// model is small enough to hold whole) and compares what it holds. Each step the micro-batch
/// losses must equal the reference's (bit for bit on the first step, within `lossTolerance`
/// relative later, once the update's sums have rounded differently) and the gradients of every
/// held stage it summed (`summedStages`), both copies summed, within relative L2 error
/// `gradientTolerance`. Collective.
public final class MLPReferenceCheck {
    let trainer: MLPPipelineTrainer
    let reference: MLPReference
    /// What broke, in the order found (rank 0).
    public private(set) var failures: [String] = []
    /// Rank 0's one-line summary of the last comparison.
    public private(set) var summary = ""

    public init(trainer: MLPPipelineTrainer, seed: UInt64) throws {
        self.trainer = trainer
        reference = try MLPReference(configuration: trainer.model, training: trainer.training,
                                     stages: trainer.configuration.partition.stages,
                                     blocksPerStage: trainer.configuration.partition.blocksPerStage, seed: seed)
    }

    /// Between the gradient sums and the update.
    public func compare(step: Int, losses: [Float]) throws {
        _ = reference.computeGradients()
        let want = reference.microBatchLosses
        let bitIdentical = zip(losses, want).filter { $0.bitPattern == $1.bitPattern }.count
        let lossError = relativeErrors(losses, want).max() ?? 0
        var worst = (error: 0.0, name: "")
        for stage in trainer.summedStages {
            var mine: [(String, [Float])] = []
            stage.visitParameters { mine.append(($0.name, $0.gradient.scalars)) }
            var k = 0
            reference.stages[stage.index].visitParameters { p in
                let error = relativeL2(mine[k].1, p.gradient.scalars)
                if error > worst.error || worst.name.isEmpty { worst = (error, mine[k].0) }
                k += 1
            }
        }
        let world = trainer.grid.world
        let errors = try world.allgather([worst.error, lossError])
        let worstRank = stride(from: 0, to: errors.count, by: 2).max { errors[$0] < errors[$1] }! / 2
        let gradientError = errors[2 * worstRank]
        let name = try world.allgatherv(Array(worst.name.utf8))[worstRank]
        guard world.rank == 0 else { return }
        summary = "micro-batch losses bit-identical: \(bitIdentical)/\(losses.count), worst relative \(scientific(lossError)); worst gradient error \(scientific(gradientError)) (\(String(decoding: name, as: UTF8.self)) on rank \(worstRank), limit \(scientific(ReferenceCheck.gradientTolerance)))"
        if step == 0 && bitIdentical != losses.count {
            failures.append("step 0: \(losses.count - bitIdentical) micro-batch losses differ from the reference's bits")
        }
        if lossError > ReferenceCheck.lossTolerance {
            failures.append("step \(step): a micro-batch loss is off by \(scientific(lossError)) relative > \(scientific(ReferenceCheck.lossTolerance))")
        }
        if gradientError > ReferenceCheck.gradientTolerance {
            failures.append("step \(step): gradient error \(scientific(gradientError)) > \(scientific(ReferenceCheck.gradientTolerance))")
        }
    }

    /// After the pipeline's update: the reference takes its own.
    public func afterUpdate() { _ = reference.applyUpdate() }
}
