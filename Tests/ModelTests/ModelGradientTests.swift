import Testing
import Model
import Tensor

/// The whole model (embedding, a dense block, an MoE block, head) against finite differences
/// of its loss, and the B/W split against the full backward.
@Suite struct ModelGradientTests {
    static let configuration = ModelConfiguration(
        hidden: 8, heads: 2, layers: 2, moeLayers: [1], ffnHidden: 12, experts: 4, expertHidden: 6,
        topK: 2, groups: 2, topKGroups: 1, sharedExpert: true, sequenceLength: 4, microBatchSize: 2)
    static let tokens = Tensor(shape: [8], scalars: [72, 101, 108, 108, 111, 32, 119, 111])
    static let targets = [101, 108, 108, 111, 32, 119, 111, 114]

    static func model(seed: UInt64 = 5) throws -> Stage {
        Stage(index: 0, partition: try StagePartition(layers: 2, stages: 1), configuration: configuration, seed: seed)
    }

    @Test func wholeModelMatchesFiniteDifferences() throws {
        let stage = try Self.model()
        // The embeddings start at std 0.02; the first RMSNorm divides by that rms, so a step of
        // ε = 1e-2 would not be small there. At std 1 the check probes the same code in its
        // smooth regime.
        scale(&stage.embedding!.table.value, by: 50)
        scale(&stage.embedding!.positions.value, by: 50)
        // Scale the loss by 50 so the gradients of this O(5) loss are O(1e-1..1) and the float32
        // rounding of the loss (~5e-7 · 50 / 2ε ≈ 1e-3 at most) stays under the 1e-3 + 2e-2 bound.
        let lossScale: Float = 50
        _ = stage.forward(0, Self.tokens, targets: Self.targets)
        stage.backward(0, Tensor(shape: [1], scalars: [lossScale]))
        var mb = 1
        func loss() -> Double {
            defer { mb += 1 }
            return Double(lossScale) * Double(stage.forward(mb, Self.tokens, targets: Self.targets).scalars[0])
        }
        let (failures, checked) = GradientCheck.parameterMismatches(stage, samples: 3, loss: loss)
        #expect(failures == [])
        #expect(checked > 60)
    }

    /// Zero Bubble's premise: B now and W later gives the very same gradients, even with another
    /// micro-batch's F, B and W interleaved (each keeps its own context).
    @Test func deferredWeightPassesGiveExactlyTheFullBackward() throws {
        let other = Tensor(shape: [8], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let otherTargets = [2, 3, 4, 5, 6, 7, 8, 9]
        let grad = Tensor(shape: [1], scalars: [0.5])

        let full = try Self.model()
        _ = full.forward(0, Self.tokens, targets: Self.targets)
        full.backward(0, grad)
        _ = full.forward(1, other, targets: otherTargets)
        full.backward(1, grad)

        let split = try Self.model()
        _ = split.forward(0, Self.tokens, targets: Self.targets)
        _ = split.forward(1, other, targets: otherTargets)
        _ = split.backwardInput(1, grad)
        _ = split.backwardInput(0, grad)
        split.backwardWeight(0)
        split.backwardWeight(1)

        #expect(split.flatGradients() == full.flatGradients())
        #expect(full.flatGradients().contains { $0 != 0 })
    }

    @Test func blockInputGradientIsIdenticalWhetherOrNotWRuns() throws {
        let stage = try Self.model()
        let block = stage.blocks[1]
        let x = GradientCheck.random([8, 8], seed: 7), dy = GradientCheck.random([8, 8], seed: 8)
        _ = block.forward(0, x)
        let first = block.backwardInput(0, dy)
        block.backwardWeight(0)
        _ = block.forward(1, x)
        let second = block.backwardInput(1, dy)
        #expect(first == second)
    }
}
