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
        var experts: [Int: [Int: (values: [Float], state: AdamW.State)]] = [:]
        let everyExpert = Set(0..<model.experts)
        try written.readExperts(Dictionary(uniqueKeysWithValues: moeBlocks.map { ($0, everyExpert) })) { block, e, values, state in
            experts[block, default: [:]][e] = (values, state)
        }
        var states: [AdamW.State] = []
        for (stage, layout) in zip(reference.stages, layouts) {
            var values: [Float] = [], m: [Float] = [], v: [Float] = []
            var steps = Set<Int>()
            for (part, _) in layout.parts {
                let piece = pieces[part]!
                values += piece.values; m += piece.m; v += piece.v
                steps.insert(piece.steps)
                guard case .block(let block) = part, let held = experts[block] else { continue }
                for e in 0..<model.experts {
                    values += held[e]!.values; m += held[e]!.state.m; v += held[e]!.state.v
                    steps.insert(held[e]!.state.steps)
                }
            }
            guard steps.count == 1, values.count == stage.parameterCount, m.isEmpty || m.count == values.count else {
                throw PipelineError("checkpoint \(folder): reference stage \(stage.index): \(values.count) parameters assembled for \(stage.parameterCount), "
                                    + "\(m.count) moments, step counts \(steps.sorted())")
            }
            stage.loadParameters(values)
            try restoreRoutingBiases(stage, biases, folder: folder)
            states.append(AdamW.State(m: m, v: v, steps: steps.first!))
        }
        reference.restore(optimizerStates: states, nextStep: manifest.step)
    }
}
