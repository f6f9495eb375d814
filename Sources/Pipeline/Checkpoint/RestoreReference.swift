import Model

extension Checkpointer {
    /// Loads a checkpoint of any layout into the single-process reference (`--check-reference`
    /// after `--resume`): each reference stage's dense parts from the stages that held them, every
    /// expert of every MoE layer from the first slot that held it, the routing biases, and AdamW's
    /// moments in the reference's order, where a block's routed experts follow its other
    /// parameters. Reads one written shard at a time.
    public static func restore(_ reference: ReferenceTrainer, from folder: String, manifest: CheckpointManifest) throws {
        let model = reference.model, written = try WrittenLayout(folder: folder, manifest: manifest, model: model)
        let partition = reference.stages[0].partition
        let layouts = reference.stages.map { DenseLayout(stage: $0.index, partition: partition, model: model) }
        let moeBlocks = model.moeLayers.sorted()
        let (pieces, biases, _) = try written.readDense(parts: layouts.flatMap { $0.parts.map(\.part) }, moeBlocks: moeBlocks)
        // [block][logical expert]
        var experts: [Int: [Int: DensePart]] = [:]
        let everyExpert = Set(0..<model.experts)
        try written.readExperts(Dictionary(uniqueKeysWithValues: moeBlocks.map { ($0, everyExpert) })) { block, e, values, state in
            experts[block, default: [:]][e] = DensePart(values: values, m: state.m, v: state.v, steps: state.steps)
        }
        var states: [AdamW.State] = []
        for (stage, layout) in zip(reference.stages, layouts) {
            let parts = layout.parts.flatMap { part, _ -> [DensePart] in
                guard case .block(let block) = part, let held = experts[block] else { return [pieces[part]!] }
                return [pieces[part]!] + (0..<model.experts).map { held[$0]! }
            }
            let joined = try DensePart(joining: parts, stage: stage.index, folder: folder)
            guard joined.values.count == stage.parameterCount else {
                throw PipelineError("checkpoint \(folder): reference stage \(stage.index): \(joined.values.count) parameters assembled for \(stage.parameterCount)")
            }
            stage.loadParameters(joined.values)
            try restoreRoutingBiases(stage, biases, folder: folder)
            states.append(AdamW.State(m: joined.m, v: joined.v, steps: joined.steps))
        }
        reference.restore(optimizerStates: states, nextStep: manifest.step)
    }
}
