import MPI
import Model

extension PipelineTrainer {
    /// What a rebalance did, over the whole job.
    public struct RebalanceReport: Sendable {
        /// Slots whose expert changed, counted once per layer (not per copy of it).
        public var movedSlots: Int
        public var slots: Int
        /// Bytes of weights and moments sent by all ranks.
        public var sentBytes: Int
        /// The worst layer's busiest-rank load over the mean, before and after, under the loads
        /// the placement was computed from.
        public var imbalanceBefore: Double
        public var imbalanceAfter: Double
        /// Whether some expert got more or fewer replicas somewhere (its rows then run in other
        /// batch shapes, which a BLAS may round differently).
        public var replicaCountsChanged: Bool
    }

    /// Places every MoE layer anew from the load statistics (EPLB, `balancing.policy`) and moves
    /// the experts whose slots change, weights and AdamW moments. Every rank holding a layer
    /// computes the same placement. Collective over the world.
    public func rebalance() throws -> RebalanceReport {
        let layers = stages.flatMap(\.expertSlots)
        // Every rank calls the collectives below, also one whose stages have no MoE layer.
        let average = loads.average ?? layers.map { [Double](repeating: 1, count: $0.logicalExperts) }
        let newRows = layers.isEmpty ? [] : try placer.place(loads: average, previous: layers.map(\.phy2log))
        let before = layers.indices.map { placer.imbalance(layers[$0].phy2log, loads: average[$0]) }
        let recounted = layers.indices.contains { l in
            layers[l].replicas.map(\.count) != (0..<layers[l].logicalExperts).map { e in newRows[l].filter { $0 == e }.count }
        }
        let after = layers.indices.map { placer.imbalance(newRows[$0], loads: average[$0]) }
        var slotOptimizers = optimizers.flatMap(\.experts)
        let outcome = try watchdog.guarding("the experts' moves of the rebalance after step \(nextStep - 1)") {
            try ExpertMigration.run(layers: layers, newRows: newRows, optimizers: &slotOptimizers,
                                    group: grid.expert, nodeOfRank: grid.expertGroupNodeOfRank)
        }
        var next = 0
        for optimizer in optimizers {
            for l in optimizer.experts.indices { optimizer.experts[l] = slotOptimizers[next]; next += 1 }
        }
        // Each layer counted once: on EP rank 0 of the pipeline rank holding its primary copy.
        let primary = Set(configuration.primaryStages(ofPipelineRank: grid.pipelineRank))
        var counted = 0, slots = 0, l = 0
        for stage in stages {
            for layer in stage.expertSlots {
                if primary.contains(stage.index) && grid.expertRank == 0 { counted += outcome.movedSlots[l]; slots += layer.slots }
                l += 1
            }
        }
        var sums = [Double(counted), Double(slots), Double(outcome.sentBytes)]
        var worst = [before.max() ?? 1, after.max() ?? 1, recounted ? 1 : 0]
        try watchdog.guarding("the report of the rebalance after step \(nextStep - 1)") {
            try grid.world.allreduce(&sums, op: .sum)
            try grid.world.allreduce(&worst, op: .max)
        }
        return RebalanceReport(movedSlots: Int(sums[0]), slots: Int(sums[1]), sentBytes: Int(sums[2]),
                               imbalanceBefore: worst[0], imbalanceAfter: worst[1], replicaCountsChanged: worst[2] > 0)
    }
}
