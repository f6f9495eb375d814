import Model

extension Checkpointer {
    /// Loads a checkpoint written on another layout (schedule, PP, V or EP; the same model and
    /// micro-batches a step). Each stage's dense parameters and moments are assembled part by part
    /// (embedding, blocks, head) from the records of the stages that held them, the routing biases
    /// and load statistics are taken by block, and every MoE layer's experts, with their moments,
    /// from any slot that held them, placed anew by EPLB from those statistics. The written shards
    /// are read one at a time, so a rank holds at most one of them beside its own state.
    static func restoreAnotherLayout(_ trainer: PipelineTrainer, folder: String, manifest: CheckpointManifest) throws {
        let written = try WrittenLayout(folder: folder, manifest: manifest, model: trainer.model)
        let model = trainer.model, partition = trainer.configuration.partition
        let layouts = trainer.stages.map { DenseLayout(stage: $0.index, partition: partition, model: model) }
        let moeBlocks = trainer.stages.flatMap { $0.blocks.map(\.index).filter(model.moeLayers.contains) }
        let (pieces, biases, loads) = try written.readDense(parts: layouts.flatMap { $0.parts.map(\.part) }, moeBlocks: moeBlocks)
        for ((stage, optimizer), layout) in zip(zip(trainer.stages, trainer.optimizers), layouts) {
            let part = try DensePart(joining: layout.parts.map { pieces[$0.part]! }, stage: stage.index, folder: folder)
            try load(part.values, into: DenseParameters(stage), path: folder, what: "stage \(stage.index)")
            optimizer.dense.state = AdamW.State(m: part.m, v: part.v, steps: part.steps)
            try restoreRoutingBiases(stage, biases, folder: folder)
        }
        if let loads, !moeBlocks.isEmpty { trainer.loads.restore(moeBlocks.flatMap { loads[$0]! }) }
        try restoreExperts(trainer, from: written)
    }

    /// Each MoE layer's routing bias of `stage`, from `biases` by block.
    static func restoreRoutingBiases(_ stage: Stage, _ biases: [Int: [Float]], folder: String) throws {
        for (moe, block) in zip(stage.moeLayers, stage.blocks.filter { $0.ffn is MoELayer }.map(\.index)) {
            guard let bias = biases[block], bias.count == moe.routingBias.count else {
                throw PipelineError("checkpoint \(folder): block \(block) has \(biases[block]?.count ?? 0) routing biases, this model \(moe.routingBias.count)")
            }
            moe.restoreRoutingBias(bias)
        }
    }

    /// Every MoE layer's experts, placed anew from the load statistics (uniform where the
    /// checkpoint has none), each with its moments from the first slot of the written run that
    /// held it.
    private static func restoreExperts(_ trainer: PipelineTrainer, from written: WrittenLayout) throws {
        let layers = zip(trainer.optimizers, trainer.stages).flatMap { optimizer, stage in
            stage.expertSlots.enumerated().map { (optimizer: optimizer, index: $0.offset, slots: $0.element) }
        }
        guard !layers.isEmpty else { return }
        let loads = trainer.loads.average ?? layers.map { [Double](repeating: 1, count: $0.slots.logicalExperts) }
        let rows = try trainer.placer.place(loads: loads, previous: nil)
        // [layers][local slots] the expert each slot takes.
        var found: [[SwiGLU?]] = layers.map { [SwiGLU?](repeating: nil, count: $0.slots.localSlots.count) }
        let wanted = Dictionary(uniqueKeysWithValues: layers.indices.map { l in (layers[l].slots.block, Set(layers[l].slots.localSlots.map { rows[l][$0] })) })
        let layerOfBlock = Dictionary(uniqueKeysWithValues: layers.indices.map { (layers[$0].slots.block, $0) })
        try written.readExperts(wanted) { block, e, values, state in
            let l = layerOfBlock[block]!, (optimizer, layerIndex, layer) = layers[l]
            for (k, p) in layer.localSlots.enumerated() where rows[l][p] == e {
                let expert = layer.makeExpert(e)
                try load(values, into: expert, path: written.folder, what: "block\(block) expert \(e)")
                optimizer.experts[layerIndex][k].state = state
                found[l][k] = expert
            }
        }
        for (l, (_, _, layer)) in layers.enumerated() { layer.install(phy2log: rows[l], experts: found[l].map { $0! }) }
    }
}
