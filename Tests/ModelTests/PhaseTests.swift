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

    /// Both stages run micro-batch 0's W and micro-batch 1's B and W; their gradients must agree.
    static func expectSameGradientsOnceFinished(_ sequential: Stage, _ phased: Stage, seed: Tensor) {
        for s in [sequential, phased] {
            s.backwardWeight(0)
            _ = s.backward(1, seed)
        }
        #expect(sequential.flatGradients() == phased.flatGradients())
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
        Self.expectSameGradientsOnceFinished(sequential, phased, seed: seed)
    }

    /// B's gradient arriving late: F's phases run alone until it is here (the blocking ask comes
    /// only when F has none left), F's end is reported the moment its last phase is done, and the
    /// numbers are those of the sequential passes.
    @Test(arguments: [0, 2, 1000]) func lateBackwardRunsForwardFirst(arrivesAfterAsks: Int) throws {
        let sequential = try Self.stage(), phased = try Self.stage()
        let (x0, t0) = Self.batch(0), (x1, t1) = Self.batch(1)
        let seed = Tensor(shape: [1], scalars: [0.5])
        _ = sequential.forward(0, x0, targets: t0)
        _ = phased.forwardPhases(0, x0, targets: t0).runAll()
        let loss1 = sequential.forward(1, x1, targets: t1)
        let d0 = sequential.backwardInput(0, seed)

        let forward = phased.forwardPhases(1, x1, targets: t1)
        var log: [String] = [], asks = 0
        var phasesRun = 0
        let backward = interleave(forward, lateBackward: { blocking in
            asks += 1
            log.append(blocking ? "wait" : "ask")
            guard blocking || asks > arrivesAfterAsks else { return nil }
            return phased.backwardInputPhases(0, seed)
        }, forwardDone: { log.append("F done after \(phasesRun)") }, between: { phasesRun += 1 })

        let fCount = forward.phases.count, bCount = backward.phases.count
        #expect(fCount > 2 && phasesRun == fCount + bCount)
        if arrivesAfterAsks == 0 { // here from the start: F and B alternate, B's phase after each of F's
            #expect(log == ["ask", "F done after \(fCount - 1 + min(fCount - 1, bCount))"])
        } else if arrivesAfterAsks >= fCount { // F runs whole, then the pair blocks for the gradient
            #expect(log == Array(repeating: "ask", count: fCount) + ["F done after \(fCount - 1)", "wait"])
        } else { // asked before F and after each of its phases until it came
            #expect(log.prefix(arrivesAfterAsks + 1) == ArraySlice(Array(repeating: "ask", count: arrivesAfterAsks + 1)))
            #expect(!log.contains("wait") && asks == arrivesAfterAsks + 1)
        }
        #expect(forward.result == loss1)
        #expect(backward.result == d0)
        Self.expectSameGradientsOnceFinished(sequential, phased, seed: seed)
    }
}
