import Model
@testable import Pipeline
import Testing

/// A resume on another layout cuts each stage's dense record by `DenseLayout`, computed from the
/// model's shape alone: it must say exactly where each part of every built stage sits.
@Suite struct DenseLayoutTests {
    static let models = [
        ModelConfiguration(hidden: 8, heads: 2, layers: 4, experts: 4, expertHidden: 4, topK: 1, groups: 1, topKGroups: 1,
                           sequenceLength: 4, microBatchSize: 1),
        ModelConfiguration(hidden: 8, heads: 2, layers: 4, moeLayers: [2, 3], experts: 4, expertHidden: 6, topK: 2, groups: 2,
                           topKGroups: 1, sharedExpert: false, sequenceLength: 4, microBatchSize: 1),
        ModelConfiguration(hidden: 8, heads: 2, layers: 4, moeLayers: [], sequenceLength: 4, microBatchSize: 1),
    ]

    /// Every stage of every cut, as the trainer builds it: its dense parameters are, part by part,
    /// the slices the layout names in the one-stage model's record.
    @Test(arguments: models) func eachPartIsItsSliceOfTheWholeModel(model: ModelConfiguration) throws {
        let whole = try StagePartition(layers: model.layers, stages: 1)
        let wholeLayout = DenseLayout(stage: 0, partition: whole, model: model)
        let wholeValues = DenseParameters(Stage(index: 0, partition: whole, configuration: model, seed: 5)).flatParameters()
        #expect(wholeLayout.count == wholeValues.count)
        #expect(wholeLayout.parts.map(\.part) == [.embedding] + (0..<model.layers).map { .block($0) } + [.head])
        for stages in [2, 4] {
            let partition = try StagePartition(layers: model.layers, stages: stages)
            for index in 0..<stages {
                let stage = Stage(index: index, partition: partition, configuration: model, seed: 5)
                let layout = DenseLayout(stage: index, partition: partition, model: model)
                let values = DenseParameters(stage).flatParameters()
                #expect(layout.count == values.count)
                let pieces = layout.parts.flatMap { wholeValues[wholeLayout.range(of: $0.part)!] }
                #expect(pieces == values, "stage \(index) of \(stages)")
                for (part, _) in layout.parts { #expect(partition.stage(holding: part) == index) }
            }
        }
    }

    @Test func aPartOfAnotherStageHasNoRange() throws {
        let model = Self.models[0], partition = try StagePartition(layers: 4, stages: 2)
        let layout = DenseLayout(stage: 1, partition: partition, model: model)
        #expect(layout.range(of: .embedding) == nil && layout.range(of: .block(1)) == nil)
        #expect(layout.range(of: .block(2)) == 0..<model.denseParameterCount(of: .block(2)))
        #expect(layout.range(of: .head)?.upperBound == layout.count)
    }

    /// A resumed `--check-reference` rebuilds the reference's flat parameters (and moments) as
    /// each part of its dense record followed, for an MoE block, by its routed experts in logical
    /// order: that must be the reference stage's own visiting order.
    @Test(arguments: models) func aBlocksRoutedExpertsFollowItsOtherParameters(model: ModelConfiguration) throws {
        let partition = try StagePartition(layers: model.layers, stages: 2)
        for index in 0..<2 {
            let stage = Stage(index: index, partition: partition, configuration: model, seed: 9)
            let dense = DenseParameters(stage).flatParameters(), layout = DenseLayout(stage: index, partition: partition, model: model)
            var assembled: [Float] = []
            for (part, _) in layout.parts {
                assembled += dense[layout.range(of: part)!]
                guard case .block(let block) = part, model.moeLayers.contains(block) else { continue }
                let moe = stage.blocks.first { $0.index == block }!.ffn as! MoELayer
                for expert in (moe.dispatcher as! LocalExpertDispatcher).experts { assembled += expert.flatParameters() }
            }
            #expect(assembled == stage.flatParameters())
        }
    }
}
