import ArgumentParser
import MPI
import Model
import Pipeline
import Schedule

extension BenchSchedulesCommand {
    /// What every rank agrees to run before any communication: each schedule's configuration on the
    /// job's ranks, the model, and the ranks' nodes.
    struct Plan {
        /// --model mlp's shape, or nil for the MoE transformer (`moe`).
        let mlp: MLPConfiguration?
        let moe: ModelConfiguration?
        /// Micro-batches a step, the same for every schedule.
        let microBatches: Int
        /// Each kind that runs; DualPipe in the rank order `train` would give it on these nodes.
        let configurations: [ScheduleKind: PipelineConfiguration]
        let nodes: (NodeLayout, [Int])

        /// What `train`'s memory check counts for pipeline rank `pp` of a trainer of `configuration`
        /// (its schedule lowered as `lowered`) on the job's nodes, AdamW sharded over the mirror
        /// pairs or not, its sums started during the schedule where they can be or all after it.
        func estimate(_ configuration: PipelineConfiguration, lowered: LoweredSchedule, pipelineRank pp: Int, sharded: Bool,
                      earlySums: Bool = true) -> RankMemoryEstimate {
            // Without early sums no stage swaps during the schedule: as on one node.
            let nodeOfRank = earlySums ? nodes.1 : nil
            return mlp.map { configuration.memoryEstimate(ofPipelineRank: pp, mlp: $0, lowered: lowered, shardedOptimizer: sharded, nodeOfRank: nodeOfRank) }
                ?? configuration.memoryEstimate(ofPipelineRank: pp, model: moe!, lowered: lowered, shardedOptimizer: sharded, nodeOfRank: nodeOfRank)
        }
    }

    /// Every schedule's configuration, made (and so checked) in the job's check, so that a setting
    /// one of them cannot run is refused once, by rank 0, not by every rank in the middle of the
    /// job; then every trainer's memory against each node's. DualPipe is left out on an odd PP
    /// unless asked for by name, when its rule refuses it.
    func plan(_ environment: Environment, mlp: MLPConfiguration?) throws -> Plan {
        let pp = environment.world.size
        let v = stagesPerRank ?? 2
        // Its memory is checked below, every trainer's together.
        let moe = model.isMLP ? nil : try model.configuration(defaultLayers: Self.defaultLayers(pipelineRanks: pp, stagesPerRank: v), memory: nil)
        // --model mlp: the example's 20, or 4 x PP, rounded up to a multiple of PP (Interleaved 1F1B's groups).
        let m = microBatches ?? (mlp == nil ? 4 * pp : (max(20, 4 * pp) + pp - 1) / pp * pp)
        let chosen = try chosenKinds()
        if rankOrder == .mirror && pp % 2 != 0 {
            throw ValidationError("--rank-order mirror pairs pipeline rank pp with PP-1-pp, so PP must be even; got mpirun -np \(pp)")
        }
        var configurations: [ScheduleKind: PipelineConfiguration] = [:]
        let kinds = (chosen ?? ScheduleKind.allCases).filter { chosen != nil || $0 != .dualpipe || pp % 2 == 0 }
        // --stages-per-rank is the looped kinds' alone.
        let loopedV = { (kind: ScheduleKind) in kind.isLooped ? stagesPerRank : nil }
        let schedule = { (kind: ScheduleKind, m: Int) throws in
            try ScheduleConfiguration(kind: kind, ranks: pp, microBatches: m, stagesPerRank: loopedV(kind))
        }
        for kind in kinds {
            // The schedule's own rules first, in this command's terms (train's would name --schedule and --pp).
            do { _ = try schedule(kind, m) } catch {
                // Without --schedules, name the kinds that do run with these settings.
                let running = ScheduleKind.allCases.filter { (try? ScheduleConfiguration(kind: $0, ranks: pp, microBatches: m)) != nil }
                let leaveOut = chosen == nil && !running.isEmpty ? "; --schedules \(running.map(\.rawValue).joined(separator: ",")) trains the ones that run" : ""
                // A count given that one of them refuses: the nearest that every one runs.
                let counts = microBatches.flatMap { given in
                    MicroBatchCounts.nearest(to: given) { count in
                        kinds.allSatisfy { (try? schedule($0, count)) != nil }
                    }
                }.map { "; \($0) trains \(chosen?.count == 1 ? "it" : "them all")" } ?? ""
                throw ValidationError("\(error) (bench schedules on mpirun -np \(pp), --micro-batches \(m)\(counts)\(leaveOut))")
            }
            // --model mlp: the same blocks under every schedule (unless --layers): one per DualPipeV
            // stage, or the fewest that V x PP stages divide too.
            configurations[kind] = try mlp != nil
                ? .mlp(kind: kind, pipelineRanks: pp, microBatches: m, stagesPerRank: loopedV(kind),
                       blocks: model.layers ?? Self.layerUnit(pipelineRanks: pp, stagesPerRank: v), worldSize: pp)
                : PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: 1, microBatches: m, stagesPerRank: loopedV(kind),
                                        model: moe!, worldSize: pp)
        }
        // DualPipe in the order `train` would give it on these nodes (auto), or the one named.
        let nodes = try RankGrid.nodes(of: environment.world)
        if let dualPipe = configurations[.dualpipe] {
            configurations[.dualpipe] = try rankOrder.resolve(try dualPipe.ordered(rankOrder.named ?? .pipeline), nodeOfRank: nodes.1)
        }
        let plan = Plan(mlp: mlp, moe: moe, microBatches: m, configurations: configurations, nodes: nodes)
        try requireMemory(plan, world: environment.world)
        return plan
    }

    /// Every trainer is in memory at once, DualPipe's as its variant rows will run: on one node
    /// with AdamW sharded as `train` shards it and on both copies; across nodes at most three.
    private func requireMemory(_ plan: Plan, world: Communicator) throws {
        let dualPipeSharding: [(sharded: Bool, earlySums: Bool)] = plan.configurations[.dualpipe].map { c in
            plan.nodes.0.nodeCount > 1 ? [(false, true), (false, false), (true, true)]
                : [(OptimizerSharding.expected(nil, configuration: c, nodeOfRank: plan.nodes.1), true), (false, true)]
        } ?? []
        let trainers = plan.configurations.keys.sorted { $0.rawValue < $1.rawValue }
            .flatMap { kind in kind == .dualpipe ? dualPipeSharding.map { (kind, $0.sharded, $0.earlySums) } : [(kind, false, true)] }
        let need = trainers.reduce(0.0) { sum, trainer in
            let c = plan.configurations[trainer.0]!
            return sum + plan.estimate(c, lowered: Schedule(c.schedule).lowered(), pipelineRank: c.grid.coordinates(of: world.rank).pipeline,
                                       sharded: trainer.1, earlySums: trainer.2).run
        }
        let times = ["", "", "twice", "three times"]
        try MPIJob.requireMemory(need: need, process: try MPIJob.processResident(world), world: world,
                                 what: "bench schedules holds its \(trainers.count) trainers\(dualPipeSharding.isEmpty ? "" : " (DualPipe's \(times[dualPipeSharding.count]))") at once, each rank its stages and the micro-batches each schedule keeps (--micro-batches \(plan.microBatches))",
                                 skip: memoryCheck.skip)
    }
}
