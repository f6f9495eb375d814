import Testing
import Model
import Tensor

/// A stage's F and B as phases compute exactly what F and B compute, also when the phases of one
/// micro-batch's F alternate with those of another's B (the F&B overlap).
@Suite struct PhaseTests {
    static let model = ModelConfiguration(
        hidden: 8, heads: 2, layers: 3, moeLayers: [1, 2], ffnHidden: 12, experts: 4, expertHidden: 6,
        topK: 2, groups: 2, topKGroups: 1, sequenceLength: 8, microBatchSize: 2)

    static func stage() throws -> Stage {
        Stage(index: 0, partition: try StagePartition(layers: 3, stages: 1), configuration: model, seed: 3)
    }

    static func batch(_ k: Int) -> (Tensor, [Int]) {
        let tokens = (0..<16).map { ($0 * 7 + k * 13) % 256 }
        return (Tensor(shape: [16], scalars: tokens.map(Float.init)), tokens.map { ($0 + 1) % 256 })
    }

    @Test func interleavedFAndBEqualSequential() throws {
        let sequential = try Self.stage(), phased = try Self.stage()
        let (x0, t0) = Self.batch(0), (x1, t1) = Self.batch(1)
        // Micro-batch 0 is forward already; then F of 1 overlapped with B of 0.
        let loss0 = sequential.forward(0, x0, targets: t0)
        #expect(phased.forwardPhases(0, x0, targets: t0).runAll() == loss0)
        let seed = Tensor(shape: [1], scalars: [0.5])
        let loss1 = sequential.forward(1, x1, targets: t1)
        let d0 = sequential.backwardInput(0, seed)
        let forward = phased.forwardPhases(1, x1, targets: t1), backward = phased.backwardInputPhases(0, seed)
        #expect(forward.phases.count > 3 && backward.phases.count > 3) // the MoE blocks split into phases
        var order: [String] = []
        interleave(forward, backward) { order.append("|") }
        #expect(order.count == forward.phases.count + backward.phases.count)
        #expect(forward.result == loss1)
        #expect(backward.result == d0)
        for s in [sequential, phased] {
            s.backwardWeight(0)
            _ = s.backward(1, seed)
        }
        #expect(sequential.flatGradients() == phased.flatGradients())
    }
}
