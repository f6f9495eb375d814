import MPI
import Model
import Pipeline
import Schedule

extension BenchSchedulesCommand {
    /// Every schedule's trainer, built before any is timed, so that their steps can take turns.
    /// DualPipe also runs as `train` does not by default, to show what its defaults save: across
    /// nodes (where some stage's sums run during the schedule) with every sum after the schedule,
    /// and with AdamW sharded over the mirror pairs where it is not; on one node (where AdamW is
    /// sharded) unsharded. A variant that would run as the default row does is left out.
    func contenders(_ plan: Plan, world: Communicator, pairOrder: StageExecutor.PairOrder) throws -> [Contender] {
        let corpus = plan.moe == nil ? nil : try ByteCorpus.standard()
        let variants: [(kind: ScheduleKind, earlySums: Bool, shard: Bool?, suffix: String?)] = ScheduleKind.allCases.flatMap { kind in
            kind != .dualpipe ? [(kind, true, nil, nil)]
                : plan.nodes.0.nodeCount > 1 ? [(kind, true, nil, nil), (kind, false, nil, "sums after"), (kind, true, true, "AdamW sharded")]
                : [(kind, true, nil, nil), (kind, true, false, "AdamW on both copies")]
        }
        var contenders: [Contender] = []
        var sumsEarly = false, sharded = false
        for variant in variants {
            let (kind, earlySums) = (variant.kind, variant.earlySums)
            guard let configuration = plan.configurations[kind] else { continue }
            if !earlySums && !sumsEarly { continue }
            if let shard = variant.shard, shard == sharded { continue }
            let step: (Bool) throws -> PipelineStepReport
            let schedule: Schedule
            let earlyStages: [Int]
            let shardsOptimizer: Bool
            let counts: (held: Int, updated: Int)
            let training = TrainingConfiguration(steps: steps + 1, microBatches: configuration.globalMicroBatches)
            let grid = try RankGrid(world: world, configuration: configuration, nodes: plan.nodes)
            if let mlp = plan.mlp {
                let trainer = try MLPPipelineTrainer(configuration: configuration, model: mlp, training: training, grid: grid, seed: 1,
                                                     earlySums: earlySums, shardOptimizer: variant.shard)
                trainer.executor.pollsBetweenPhases = progress.pollsBetweenPhases
                trainer.executor.pairOrder = pairOrder
                (schedule, step, earlyStages, shardsOptimizer) = (trainer.schedule, { try trainer.step(keepTrace: $0) }, trainer.earlySumStages, trainer.shardsOptimizer)
                counts = trainer.parameterCounts
            } else {
                let trainer = try PipelineTrainer(configuration: configuration, model: plan.moe!, training: training, grid: grid, corpus: corpus!,
                                                  seed: 1, earlySums: earlySums, shardOptimizer: variant.shard)
                trainer.executor.pollsBetweenPhases = progress.pollsBetweenPhases
                trainer.executor.pairOrder = pairOrder
                (schedule, step, earlyStages, shardsOptimizer) = (trainer.schedule, { try trainer.step(keepTrace: $0) }, trainer.earlySumStages, trainer.shardsOptimizer)
                counts = trainer.parameterCounts
            }
            // The largest rank's: what a rank must have room for.
            let largest = try largestParameterCounts(counts, world: world)
            if kind == .dualpipe && variant.suffix == nil {
                sumsEarly = try world.allreduce(earlyStages.isEmpty ? 0 : 1, op: .max) == 1
                sharded = shardsOptimizer
            }
            // An interleaved kind's V is named when it is not the default.
            let title = configuration.stagesPerRank == ScheduleConfiguration.defaultStagesPerRank(kind) ? kind.title : configuration.schedule.title
            let lowered = schedule.lowered()
            let estimated = (0..<configuration.pipelineRanks).map {
                plan.estimate(configuration, lowered: lowered, pipelineRank: $0, sharded: shardsOptimizer, earlySums: earlySums).run
            }.max() ?? 0
            contenders.append(Contender(label: variant.suffix.map { "\(title), \($0)" } ?? title, configuration: configuration,
                                        schedule: schedule, pairOrder: pairOrder, step: step, parameters: largest, estimatedBytes: estimated))
        }
        return contenders
    }

    /// Step 0 warms every trainer up, then `steps` rounds of one step each, the schedules taking
    /// turns, so that a slow spell of the machine falls on all of them rather than on one. With
    /// --shaped, each round runs every schedule on both links, the two halves in turn (plain then
    /// shaped, then shaped then plain), so the link changes once a round; the link is left plain.
    func runRounds(_ contenders: inout [Contender], shaping: LinkShaping?, world: Communicator, messageFloats: Int) throws {
        var linkShaped = shaping != nil
        var progress = RoundProgress(rounds: steps + 1)
        if world.rank == 0 { printError(progress.opening(trainers: contenders.count, onBothLinks: shaping != nil)) }
        for n in 0...steps {
            for onShaped in shaping == nil ? [true] : (n % 2 == 0 ? [false, true] : [true, false]) {
                if let shaping, onShaped != linkShaped {
                    try shaping.apply(onShaped ? shaping.shaped : shaping.unshaped, flag: onShaped ? "--shaped" : "--unshaped",
                                      world: world, messageFloats: messageFloats)
                    linkShaped = onShaped
                }
                for c in contenders.indices {
                    let report = try contenders[c].step(n > 0 && onShaped)
                    guard n > 0 else { continue } // step 0 warms up
                    if onShaped { contenders[c].record(report) } else { contenders[c].recordUnshaped(report) }
                }
            }
            let line = progress.roundDone()
            if world.rank == 0 { printError(line) }
        }
        if let shaping, linkShaped { try shaping.apply(shaping.unshaped, flag: "--unshaped", world: world, messageFloats: messageFloats) }
    }
}
