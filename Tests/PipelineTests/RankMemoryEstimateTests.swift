import Model
@testable import Pipeline
import Schedule
import Testing

/// What a pipeline rank is estimated to need: its held stages and its schedule's saved contexts.
@Suite struct RankMemoryEstimateTests {
    let model = ModelConfiguration(layers: 4)

    @Test func aRankCountsItsHeldStagesAndItsSchedulesContexts() throws {
        for kind in [ScheduleKind.dualpipe, .oneFOneB, .gpipe, .zb1p] {
            let c = try PipelineConfiguration(kind: kind, pipelineRanks: 2, expertParallel: 1, microBatches: 8, model: model, worldSize: 2)
            let schedule = Schedule(c.schedule)
            for pp in 0..<2 {
                let e = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: schedule.lowered())
                let stages = c.stagesHeld(byPipelineRank: pp).map { model.memoryEstimate(ofStage: $0, in: c.partition) }
                #expect(e.parameters == stages.map(\.parameters).reduce(0, +), "\(kind) pp \(pp)")
                #expect(e.contexts == schedule.savedContexts[pp])
                #expect(e.contextBytes == stages.map(\.activations).max())
                #expect(e.total == e.parameters + Double(e.contexts) * e.contextBytes + e.transient + e.sums + e.messages)
                // The message buffers its lowered program holds at once, [tokens, hidden] floats each.
                #expect(e.messageBuffers == schedule.lowered().messageBuffersHeld(byRank: pp) && e.messageBuffers > 0)
                #expect(e.messageBufferBytes == 4 * Double(model.tokensPerMicroBatch * model.hidden))
                // DualPipe's mirror copies gather every held stage's gradients to sum them (every
                // expert once, by logical expert); the other kinds at EP 1 hold one copy, no sums.
                let summed = c.stagesHeld(byPipelineRank: pp).map { model.memoryEstimate(ofStage: $0, in: c.partition, expertSlots: model.experts).parameterCount }
                #expect(e.sums == (kind == .dualpipe ? 4 * summed.reduce(0, +) : 0), "\(kind) pp \(pp)")
            }
        }
        // DualPipe's rank holds both halves of the model, 1F1B's one; GPipe keeps all 8 micro-batches.
        let dualPipe = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 2, expertParallel: 1, microBatches: 8, model: model, worldSize: 2)
        #expect(dualPipe.memoryEstimate(ofPipelineRank: 0, model: model, lowered: Schedule(dualPipe.schedule).lowered()).parameters == model.memoryEstimate.parameters)
        let gpipe = try PipelineConfiguration(kind: .gpipe, pipelineRanks: 2, expertParallel: 1, microBatches: 8, model: model, worldSize: 2)
        #expect(gpipe.memoryEstimate(ofPipelineRank: 1, model: model, lowered: Schedule(gpipe.schedule).lowered()).contexts == 8)
    }

    /// With checkpoints, a save or a restore holds, in the activations' place after a step, the
    /// partner's moments where AdamW is sharded and one record at most a held stage's parameters.
    @Test func checkpointsCountWhatASaveOrARestoreHolds() throws {
        let c = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: model, worldSize: 4)
        let lowered = Schedule(c.schedule).lowered()
        for pp in 0..<4 {
            let count = { (stage: Int) in model.memoryEstimate(ofStage: stage, in: c.partition).parameterCount }
            let held = c.stagesHeld(byPipelineRank: pp).map(count)
            let sharded = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, shardedOptimizer: true, checkpoints: true)
            #expect(sharded.checkpoint == 8 * (held.reduce(0, +) - count(pp)) + 4 * held.max()!, "pp \(pp)")
            let unsharded = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, checkpoints: true)
            #expect(unsharded.checkpoint == 4 * held.max()!)
            #expect(c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, shardedOptimizer: true).checkpoint == 0)
            // It takes the activations' place where it needs more, never adds to them.
            let withoutActivations = sharded.parameters + sharded.data + sharded.sums + sharded.messages
            #expect(sharded.run == withoutActivations + max(sharded.activations + sharded.transient, sharded.checkpoint))
        }
    }

    /// With AdamW sharded over DualPipe's mirror pairs a rank keeps moments for its primary stage
    /// alone: 8 bytes a parameter held and 8 more a parameter of that stage. What the estimate
    /// expects of sharding follows the nodes: by default where every pair shares one.
    @Test func shardedAdamWKeepsOneStagesMoments() throws {
        let c = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: model, worldSize: 4)
        let schedule = Schedule(c.schedule)
        for pp in 0..<4 {
            let count = { (stage: Int) in model.memoryEstimate(ofStage: stage, in: c.partition).parameterCount }
            let held = c.stagesHeld(byPipelineRank: pp).map(count).reduce(0, +)
            var sharded = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: schedule.lowered(), shardedOptimizer: true)
            #expect(sharded.parameters == 8 * held + 8 * count(pp), "pp \(pp)")
            #expect(c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: schedule.lowered()).parameters == 16 * held)
            sharded.process = 40 * 1_048_576
            #expect(sharded.total == sharded.run + 40 * 1_048_576)
        }
        // pp 0 and 3, 1 and 2 are the pairs: split 0,1 | 2,3 they span the nodes, in 0,3 | 1,2 not.
        #expect(!OptimizerSharding.expected(nil, configuration: c, nodeOfRank: [0, 0, 1, 1]))
        #expect(OptimizerSharding.expected(nil, configuration: c, nodeOfRank: [0, 1, 1, 0]))
        #expect(OptimizerSharding.expected(true, configuration: c, nodeOfRank: [0, 0, 1, 1]))
        #expect(!OptimizerSharding.expected(false, configuration: c, nodeOfRank: [0, 0, 0, 0]))
        let oneFOneB = try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: model, worldSize: 4)
        #expect(!OptimizerSharding.expected(nil, configuration: oneFOneB, nodeOfRank: [0, 0, 0, 0]))
        // --model mlp the same way: a held block 8 x hidden² floats with gradients, moments for one.
        let mlp = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let m = try PipelineConfiguration.mlp(kind: .dualpipe, pipelineRanks: 2, microBatches: 8, worldSize: 2)
        #expect(m.memoryEstimate(ofPipelineRank: 0, mlp: mlp, lowered: Schedule(m.schedule).lowered(), shardedOptimizer: true).parameters == 3 * 4 * 2 * 8 * 64)
    }

    /// The sums' buffers: sharded at EP 1 the pair gathers only the partner's stage (its own stage's
    /// part is added in place), plus four windows; unsharded, both held stages; at EP 2 the replica
    /// group's allreduce gathers every held stage, sharded or not; 1F1B at EP 2 sums its one stage.
    @Test func theSumsGatherWhatTheirCollectivesSum() throws {
        // The default model's stages exceed a window: four whole windows.
        let windows = Double(4 * 4 * MirrorShardedUpdate.windowFloats)
        let floats = { (c: PipelineConfiguration, stages: [Int]) in
            4 * stages.map { model.memoryEstimate(ofStage: $0, in: c.partition, expertSlots: model.experts).parameterCount }.reduce(0, +)
        }
        let pairs = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: model, worldSize: 4)
        let schedule = Schedule(pairs.schedule)
        for pp in 0..<4 {
            let mirror = pairs.pipelineRanks - 1 - pp
            #expect(pairs.memoryEstimate(ofPipelineRank: pp, model: model, lowered: schedule.lowered(), shardedOptimizer: true).sums == floats(pairs, [mirror]) + windows)
            #expect(pairs.memoryEstimate(ofPipelineRank: pp, model: model, lowered: schedule.lowered()).sums == floats(pairs, [pp, mirror]))
        }
        let groups = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 2, expertParallel: 2, microBatches: 4, model: model, worldSize: 4)
        #expect(groups.memoryEstimate(ofPipelineRank: 0, model: model, lowered: Schedule(groups.schedule).lowered(), shardedOptimizer: true).sums == floats(groups, [0, 1]) + windows)
        let replicas = try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 2, expertParallel: 2, microBatches: 4, model: model, worldSize: 4)
        #expect(replicas.memoryEstimate(ofPipelineRank: 1, model: model, lowered: Schedule(replicas.schedule).lowered()).sums == floats(replicas, [1]))
        let mlp = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let m = try PipelineConfiguration.mlp(kind: .dualpipe, pipelineRanks: 2, microBatches: 8, worldSize: 2)
        // --model mlp at hidden 8: a block's 512 floats, smaller than a window, are each window's size.
        #expect(m.memoryEstimate(ofPipelineRank: 0, mlp: mlp, lowered: Schedule(m.schedule).lowered(), shardedOptimizer: true).sums == 4 * 8 * 64 + 4 * 4 * 8 * 64)
    }

    /// Where a replica group of two spans two nodes, the stages `SumStarts.early` picks swap their
    /// sums during the schedule and receive the partner's part into a second buffer: DualPipe's
    /// mirror pair at PP 2 (unsharded, as `train` runs it across nodes), and an EP pair of a kind
    /// with several stages a rank. On one node, with the pair on one node, or with AdamW sharded
    /// over the pair (it sums through its windows), nothing more.
    @Test func theEarlySwapAcrossNodesReceivesIntoASecondBuffer() throws {
        let floats = { (c: PipelineConfiguration, stages: [Int]) in
            4 * stages.map { model.memoryEstimate(ofStage: $0, in: c.partition, expertSlots: model.experts).parameterCount }.reduce(0, +)
        }
        let grids = [try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 2, expertParallel: 1, microBatches: 8, model: model, worldSize: 2),
                     try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: model, worldSize: 4),
                     try PipelineConfiguration(kind: .interleaved1F1B, pipelineRanks: 2, expertParallel: 2, microBatches: 8, model: model, worldSize: 4),
                     try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 2, expertParallel: 2, microBatches: 8, model: model, worldSize: 4)]
        var swapped = 0
        for c in grids {
            let lowered = Schedule(c.schedule).lowered()
            // Each replica group's ranks on two nodes: split by pipeline rank for DualPipe's pairs,
            // by EP rank for the EP groups; and all on one node.
            let across = (0..<(c.pipelineRanks * c.expertParallel)).map { let at = c.grid.coordinates(of: $0); return c.kind == .dualpipe ? (at.pipeline < c.pipelineRanks / 2 ? 0 : 1) : at.expert }
            let oneNode = [Int](repeating: 0, count: (c.pipelineRanks * c.expertParallel))
            for pp in 0..<c.pipelineRanks {
                let early = SumStarts.early(programs: lowered.programs, stagesHeld: c.stagesHeld, pipelineRank: pp).keys.sorted()
                let alone = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered)
                #expect(c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, nodeOfRank: oneNode) == alone)
                let spread = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, nodeOfRank: across)
                #expect(spread.sums - alone.sums == floats(c, early), "\(c.kind) pp \(pp)")
                if c.kind == .dualpipe {
                    let sharded = c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, shardedOptimizer: true, nodeOfRank: across)
                    #expect(sharded == c.memoryEstimate(ofPipelineRank: pp, model: model, lowered: lowered, shardedOptimizer: true))
                }
                swapped += early.count
            }
        }
        // DualPipe at PP 2 does swap a stage on each rank (not a check that passes on empty sets).
        let pp2 = grids[0]
        #expect(SumStarts.early(programs: Schedule(pp2.schedule).lowered().programs, stagesHeld: pp2.stagesHeld, pipelineRank: 0).count == 1)
        #expect(swapped >= 2)
        // --model mlp the same way: at hidden 8 a block is 8 x 64 floats, one block a stage here.
        let mlp = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let m = try PipelineConfiguration.mlp(kind: .dualpipe, pipelineRanks: 2, microBatches: 8, worldSize: 2)
        let lowered = Schedule(m.schedule).lowered()
        let alone = m.memoryEstimate(ofPipelineRank: 1, mlp: mlp, lowered: lowered)
        #expect(m.memoryEstimate(ofPipelineRank: 1, mlp: mlp, lowered: lowered, nodeOfRank: [0, 1]).sums - alone.sums == Double(4 * 8 * 64 * m.partition.blocksPerStage))
    }

    /// The floats the estimate counts for a stage's sums are those the runtime's buffers gather: the
    /// dense arena's and, by logical expert, the experts' (here every expert once).
    @Test func theSumsCountTheArenasFloats() throws {
        let partition = try StagePartition(layers: model.layers, stages: 2)
        for index in 0..<2 {
            let stage = Stage(index: index, partition: partition, configuration: model, seed: 1)
            let dense = GradientArena(stages: [stage]) { !$0.isRoutedExpert }.count
            var experts = 0
            stage.visitParameters { if $0.isRoutedExpert { experts += $0.gradient.count } }
            #expect(Double(dense + experts) == model.memoryEstimate(ofStage: index, in: partition, expertSlots: model.experts).parameterCount)
        }
    }

    /// An EP rank holds its slots of each MoE layer, not every expert.
    @Test func expertParallelRanksHoldTheirSlots() throws {
        let whole = try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 2, expertParallel: 1, microBatches: 4, model: model, worldSize: 2)
        let split = try PipelineConfiguration(kind: .oneFOneB, pipelineRanks: 2, expertParallel: 2, microBatches: 4, model: model, worldSize: 4)
        let a = whole.memoryEstimate(ofPipelineRank: 0, model: model, lowered: Schedule(whole.schedule).lowered())
        let b = split.memoryEstimate(ofPipelineRank: 0, model: model, lowered: Schedule(split.schedule).lowered())
        #expect(split.slotsPerRank < model.experts && b.parameters < a.parameters)
        #expect(b.parameters == model.memoryEstimate(ofStage: 0, in: split.partition, expertSlots: split.slotsPerRank).parameters)
    }

    /// --model mlp: a rank holds the inputs of the micro-batches it starts and the targets of those
    /// it ends; 1F1B's first rank all M inputs, its last all M targets, DualPipe's each half of both.
    @Test func theMLPCountsItsDataAndBlocks() throws {
        let mlp = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let floats = 4.0 * 8 * 8  // bytes of one micro-batch's input: rows x hidden floats
        for kind in [ScheduleKind.oneFOneB, .dualpipe] {
            let c = try PipelineConfiguration.mlp(kind: kind, pipelineRanks: 2, microBatches: 8, worldSize: 2)
            let schedule = Schedule(c.schedule)
            for pp in 0..<2 {
                let e = c.memoryEstimate(ofPipelineRank: pp, mlp: mlp, lowered: schedule.lowered())
                #expect(e.data == 8 * floats, "\(kind) pp \(pp)")
                #expect(e.parameters == Double(c.stagesHeld(byPipelineRank: pp).count) * 16 * 8 * 64)
                #expect(e.contextBytes == 10 * floats && e.contexts == schedule.savedContexts[pp])
            }
        }
    }

    /// `--model mlp`'s whole model in one process (its reference): 16 bytes for every parameter the
    /// reference really holds, one micro-batch's context through every block, and the inputs and
    /// targets of every micro-batch.
    @Test func theMLPReferenceHoldsEveryBlockAndAllTheData() throws {
        let mlp = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let floats = 4.0 * 8 * 8  // bytes of one micro-batch's input: rows x hidden floats
        let reference = try MLPReference(configuration: mlp, training: TrainingConfiguration(microBatches: 5), stages: 1,
                                         blocksPerStage: 3, seed: 1)
        var parameters = 0
        for stage in reference.stages { stage.visitParameters { parameters += $0.value.scalars.count } }
        let e = RankMemoryEstimate.mlpReference(mlp, blocks: 3, microBatches: 5)
        #expect(e.parameters == 16 * Double(parameters))
        #expect(e.contexts == 1 && e.contextBytes == 3 * 9 * floats)
        #expect(e.data == 2 * 5 * floats)
    }
}
