import Testing
import Model
import Tensor

@Suite struct MoETests {
    /// With one expert and top-1 the gate is exactly 1, so the MoE layer is its expert.
    @Test(arguments: [RouterScoring.sigmoid, .softmax])
    func oneExpertTopOneIsTheDenseMLP(scoring: RouterScoring) {
        let c = ModelConfiguration(hidden: 8, heads: 2, layers: 2, moeLayers: [0], experts: 1, expertHidden: 6,
                                   topK: 1, groups: 1, topKGroups: 1, sharedExpert: false, scoring: scoring,
                                   sequenceLength: 4, microBatchSize: 2)
        let dispatcher = MoELayer.localExperts(name: "moe", c, seed: 9, stream: [0])
        let moe = MoELayer(name: "moe", c, dispatcher: dispatcher, seed: 9, stream: [0])
        let dense = SwiGLU(name: "mlp", hidden: 8, inner: 6, layers: 2, seed: 10, stream: [1])
        dense.gateUp.value = dispatcher.experts[0].gateUp.value
        dense.down.value = dispatcher.experts[0].down.value

        let x = GradientCheck.random([8, 8], seed: 11), dy = GradientCheck.random([8, 8], seed: 12)
        #expect(moe.forward(0, x) == dense.forward(0, x))
        let dxMoE = moe.backwardInput(0, dy), dxDense = dense.backwardInput(0, dy)
        moe.backwardWeight(0)
        dense.backwardWeight(0)
        #expect(dispatcher.experts[0].gateUp.gradient == dense.gateUp.gradient)
        #expect(dispatcher.experts[0].down.gradient == dense.down.gradient)
        // The router's gradient is zero up to rounding (a lone gate does not depend on its score).
        #expect(zip(dxMoE.scalars, dxDense.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        #expect(moe.router.gradient.scalars.allSatisfy { abs($0) < 1e-5 })
        #expect(moe.expertLoad == [8])
    }

    /// 8 experts in 4 groups of 2, keep 2 groups, top-2 experts. Token 0's best expert (0.95,
    /// group 0) survives, but its second best overall (0.7, group 2) does not: group 2's top-2
    /// sum (0.8) loses to groups 1 (1.1) and 0 (0.95), so the second pick is 0.6 from group 1.
    @Test func groupLimitedRoutingPicksInsideTheBestGroups() {
        let scores = Tensor(shape: [2, 8], scalars: [
            0.95, 0.0, 0.6, 0.5, 0.7, 0.1, 0.3, 0.3,
            0.1, 0.2, 0.3, 0.3, 0.2, 0.2, 0.9, 0.35,
        ])
        let limited = selectExperts(scores: scores, topK: 2, groups: 4, topKGroups: 2, scoring: .sigmoid)
        #expect(limited == [0, 2, 6, 7])
        // Token 1: groups sum to 0.3, 0.6, 0.4, 1.25: groups 3 and 1 stay, so 0.35 (expert 7)
        // beats the 0.3s of group 1 by score, and expert 2 wins the tie with expert 3 by index.
        let limitedThree = selectExperts(scores: scores, topK: 3, groups: 4, topKGroups: 2, scoring: .sigmoid)
        #expect(limitedThree == [0, 2, 3, 6, 7, 2])
        // Without the group limit: plain top-2.
        #expect(selectExperts(scores: scores, topK: 2, groups: 4, topKGroups: 4, scoring: .sigmoid) == [0, 4, 6, 7])
        // Softmax scoring ranks groups by their best expert: 0.95 (g0), 0.7 (g2) for token 0.
        #expect(selectExperts(scores: scores, topK: 2, groups: 4, topKGroups: 2, scoring: .softmax) == [0, 4, 6, 7])
    }

    @Test func gatesRenormaliseOverTheChosenExperts() {
        let scores = Tensor(shape: [1, 4], scalars: [0.2, 0.6, 0.1, 0.2])
        let gates = gateWeights(scores: scores, chosen: [1, 0], topK: 2, normalize: true, scaling: 2)
        #expect(abs(gates[0] - 1.5) < 1e-6 && abs(gates[1] - 0.5) < 1e-6)
        #expect(gateWeights(scores: scores, chosen: [1, 0], topK: 2, normalize: false, scaling: 2) == [1.2, 0.4])
    }

    @Test func dispatcherRunsEachBlockThroughItsExpert() {
        let c = ModelConfiguration(hidden: 4, heads: 1, layers: 1, moeLayers: [0], experts: 3, expertHidden: 5,
                                   topK: 1, groups: 1, topKGroups: 1, sequenceLength: 2, microBatchSize: 1)
        let dispatcher = MoELayer.localExperts(name: "moe", c, seed: 3, stream: [0])
        let rows = GradientCheck.random([5, 4], seed: 13)
        let out = dispatcher.forward(0, ExpertBatch(rows: rows, counts: [2, 0, 3]))
        let expert0 = dispatcher.experts[0].forward(9, gatherRows(rows, [0, 1]))
        let expert2 = dispatcher.experts[2].forward(9, gatherRows(rows, [2, 3, 4]))
        #expect(gatherRows(out, [0, 1]) == expert0)
        #expect(gatherRows(out, [2, 3, 4]) == expert2)
    }
}
