import ArgumentParser
import Foundation
import MPI
import Model
import Pipeline
import Tensor

/// `dualpipe bench ep`: what expert parallelism costs. For EP 2, 4 and 8 (as many as the job has
/// ranks for): one MoE layer of the model, F then B, its dispatch and combine exchanges against
/// plain alltoallvs of the same bytes; and one rebalance of every MoE layer (placement from
/// skewed loads, then the migration of weights and moments).
struct BenchEPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ep",
        abstract: "Expert dispatch + combine time per MoE layer against alltoallv of the same bytes, and rebalance time, at EP 2, 4 and 8.",
        discussion: "Run under mpirun with 2 or more ranks, e.g. `mpirun -np 8 dualpipe bench ep`. Rank 0 prints the table.")

    @OptionGroup(title: "Model") var model: ModelOptions
    @Option(help: "Timed repetitions per row; the median is reported (slowest rank).")
    var samples = 5
    @OptionGroup(title: "Runtime") var memoryCheck: MemoryCheckOption

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard samples >= 1 else { throw ValidationError("--samples \(samples): it must be >= 1") }
        // The whole model against the machine's memory (with --skip-memory-check: a warning from
        // rank 0 once the job runs; validate may run more than once).
        let configuration = try model.configuration(memory: nil)
        if !memoryCheck.skip { try memoryCheck.requireFits(configuration) }
        guard configuration.moeLayers.min() != nil else {
            throw ValidationError("--dense-layers \(model.denseLayers) = --layers \(model.layers ?? 4): the model has no MoE layer to measure")
        }
    }

    func run() throws {
        try ComputeSetup.configure()
        let configuration = try model.configuration(memory: nil)
        let block = configuration.moeLayers.min()!
        // The same TCP eager limit as `train` on this model, so exchanges across nodes cost what they cost there.
        MessageTransports.prepare(forMessagesOf: try model.activationFloats() * MemoryLayout<Float>.size)
        try MPIJob.run(check: { environment in
            guard environment.world.size >= 2 else {
                throw ValidationError("bench ep needs at least 2 ranks, got \(environment.world.size): run it under mpirun -np 2 or more")
            }
            if memoryCheck.skip { try memoryCheck.requireFits(configuration, prints: environment.world.rank == 0) }
        }) { environment in
            let world = environment.world
            var rows = [["EP", "replicas", "tokens", "layer F+B ms", "dispatch+combine ms", "alltoallv ms", "ratio", "rebalance ms", "moved", "MiB"]]
            for ep in [2, 4, 8] where ep <= world.size {
                let group = try world.split(color: world.rank < ep ? 0 : nil, key: world.rank)
                if let group { rows.append(try measure(group, configuration, block: block)) }
                try world.barrier()
            }
            if world.rank == 0 {
                print("one MoE layer (block \(block)) of the model per EP rank, \(configuration.tokensPerMicroBatch) tokens, hidden \(configuration.hidden), \(configuration.experts) experts, top-\(configuration.topK); OpenBLAS \(BLAS.coreName); \(MessageTransports.description); medians of \(samples), slowest rank")
                print(renderTable(rows, textColumns: 0), terminator: "")
                print("dispatch+combine: the layer's four exchanges (F dispatch, F combine, B dispatch, B combine) with their count exchange and packing;\nalltoallv: four MPI_Alltoallv of the same rows alone; rebalance: EPLB placement from Zipf loads plus the migration of every MoE layer")
            }
        }
    }

    private func measure(_ group: Communicator, _ model: ModelConfiguration, block: Int) throws -> [String] {
        let ep = group.size, replicas = PipelineConfiguration.defaultReplicas(experts: model.experts, expertParallel: ep)
        let placer = ExpertPlacer(policy: .balanced, replicas: replicas, groups: model.groups, nodes: 1, ranks: ep,
                                  logicalExperts: model.experts)
        let dispatcher = ExpertParallelDispatcher(
            slots: ExpertSlots(block: block, phy2log: try placer.initial(layers: 1)[0], rank: group.rank, ranks: ep, model: model, seed: 1),
            group: group, hidden: model.hidden)
        let layer = MoELayer(name: "block\(block).moe", model, dispatcher: dispatcher, seed: 1, stream: [2, UInt64(block), 1])
        var rng = SplitMix64(seed: 9, streams: [UInt64(group.rank)])
        let x = Tensor(shape: [model.tokensPerMicroBatch, model.hidden], normalStandardDeviation: 1, rng: &rng)
        var layerTimes: [Double] = [], exchangeTimes: [Double] = [], rawTimes: [Double] = []
        for sample in 0...samples { // sample 0 warms up
            dispatcher.resetTiming()
            try group.barrier()
            let start = monotonicSeconds()
            let y = layer.forward(sample, x)
            _ = layer.backwardInput(sample, y)
            layer.backwardWeight(sample)
            let layerSeconds = monotonicSeconds() - start
            let (send, receive) = dispatcher.lastExchangeRows
            try group.barrier()
            let rawStart = monotonicSeconds()
            for (out, into) in [(send, receive), (receive, send), (send, receive), (receive, send)] {
                let sendBuffer = MessageBuffer<Float>(count: out.reduce(0, +) * model.hidden, repeating: 1)
                let receiveBuffer = MessageBuffer<Float>(count: into.reduce(0, +) * model.hidden, repeating: 0)
                try group.ialltoallv(send: sendBuffer, sendCounts: out.map { $0 * model.hidden },
                                     receive: receiveBuffer, receiveCounts: into.map { $0 * model.hidden }).wait()
            }
            let rawSeconds = monotonicSeconds() - rawStart
            if sample > 0 {
                layerTimes.append(layerSeconds)
                exchangeTimes.append(dispatcher.exchangeSeconds)
                rawTimes.append(rawSeconds)
            }
        }
        let (rebalanceSeconds, moved, bytes) = try rebalance(group, model, placer)
        var slowest = [median(layerTimes), median(exchangeTimes), median(rawTimes), rebalanceSeconds]
        try group.allreduce(&slowest, op: .max)
        let sentBytes = try group.allreduce(bytes, op: .sum)
        return ["\(ep)", "\(replicas)", "\(model.tokensPerMicroBatch)", decimal(slowest[0] * 1000, 2), decimal(slowest[1] * 1000, 2),
                decimal(slowest[2] * 1000, 2), decimal(slowest[1] / max(slowest[2], 1e-12), 2), decimal(slowest[3] * 1000, 2),
                "\(moved)", decimal(Double(sentBytes) / 1_048_576, 2)]
    }

    /// Every MoE layer of the model placed from skewed (Zipf) loads, then migrated with AdamW
    /// moments; returns the time, the slots moved and the bytes this rank sent.
    private func rebalance(_ group: Communicator, _ model: ModelConfiguration, _ placer: ExpertPlacer) throws -> (Double, Int, Int) {
        let blocks = model.moeLayers.sorted()
        let initial = try placer.initial(layers: blocks.count)
        let layers = zip(blocks, initial).map { ExpertSlots(block: $0, phy2log: $1, rank: group.rank, ranks: group.size, model: model, seed: 1) }
        var optimizers = layers.map { layer in
            layer.experts.map { expert -> AdamW in
                var adam = AdamW()
                adam.update(expert, gradientScale: 1, learningRate: 0) // one step, so the moments exist and travel
                return adam
            }
        }
        let loads = blocks.indices.map { l in (0..<model.experts).map { e in 1000 / pow(Double((e * 7 + l * 3) % model.experts + 1), 1.2) } }
        try group.barrier()
        let start = monotonicSeconds()
        let newRows = try placer.place(loads: loads, previous: layers.map(\.phy2log))
        let outcome = try ExpertMigration.run(layers: layers, newRows: newRows, optimizers: &optimizers, group: group,
                                              nodeOfRank: [Int](repeating: 0, count: group.size))
        return (monotonicSeconds() - start, outcome.movedSlots.reduce(0, +), outcome.sentBytes)
    }
}
