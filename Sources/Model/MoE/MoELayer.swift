import Tensor

/// The MoE feed-forward: a router picks `topK` routed experts per token, the dispatcher runs
/// them, their outputs come back weighted by the gates, and an optional shared expert adds its
/// output for every token. `[tokens, hidden] -> [tokens, hidden]`.
public final class MoELayer: Layer {
    public var router: Parameter // [hidden, experts]
    public let dispatcher: any ExpertDispatcher
    public let shared: SwiGLU?
    public let topK: Int
    public let groups: Int
    public let topKGroups: Int
    public let scoring: RouterScoring
    public let normalizeGates: Bool
    public let routedScaling: Float
    /// Tokens sent to each expert by the forwards since the last `resetLoad()` `[experts]`:
    /// the load statistics expert placement balances.
    public private(set) var expertLoad: [Int]
    /// DeepSeek-V3's auxiliary-loss-free balancing `[experts]`: added to the scores when choosing
    /// the top-k experts only (the gates still come from the plain scores), and nudged toward
    /// balance after each step by `balanceRouting`. Zero unless balancing is on.
    public private(set) var routingBias: [Float]

    private struct ForwardSaved {
        var x: Tensor            // [n, hidden]
        var scores: Tensor       // [n, experts]
        var chosen: [Int]        // [n * topK]
        var gates: [Float]       // [n * topK]
        var rowToken: [Int]      // [n * topK]: dispatched row a came from token rowToken[a]
        var rowAssignment: [Int] // [n * topK]: ... and is that token's assignment rowAssignment[a] (t·topK + slot)
        var expertOutput: Tensor // [n * topK, hidden], dispatched order
    }
    private var forwardContexts: [Int: ForwardSaved] = [:]
    private var weightContexts: [Int: (x: Tensor, dLogits: Tensor)] = [:]

    public init(name: String, _ configuration: ModelConfiguration, dispatcher: any ExpertDispatcher,
                seed: UInt64, stream: [UInt64]) {
        precondition(dispatcher.expertCount == configuration.experts,
                     "MoE layer: dispatcher has \(dispatcher.expertCount) experts, configuration \(configuration.experts)")
        router = .normal(name + ".router", shape: [configuration.hidden, configuration.experts],
                         std: 1 / Float(configuration.hidden).squareRoot(), seed: seed, stream: stream + [0])
        self.dispatcher = dispatcher
        shared = configuration.sharedExpert
            ? SwiGLU(name: name + ".shared", hidden: configuration.hidden, inner: configuration.expertHidden,
                     layers: configuration.layers, seed: seed, stream: stream + [1])
            : nil
        topK = configuration.topK
        groups = configuration.groups
        topKGroups = configuration.topKGroups
        scoring = configuration.scoring
        normalizeGates = configuration.normalizeGates
        routedScaling = configuration.routedScaling
        expertLoad = [Int](repeating: 0, count: configuration.experts)
        routingBias = [Float](repeating: 0, count: configuration.experts)
    }

    /// Moves each expert's routing bias by `speed` toward balance: down for an expert that got
    /// more than the mean of `loads` (the step's tokens per expert over every copy of the layer),
    /// up for one that got fewer.
    public func balanceRouting(loads: [Double], speed: Float) {
        precondition(loads.count == routingBias.count, "\(loads.count) loads for \(routingBias.count) experts")
        guard speed > 0 else { return }
        let mean = loads.reduce(0, +) / Double(loads.count)
        for e in routingBias.indices where loads[e] != mean { routingBias[e] += loads[e] > mean ? -speed : speed }
    }

    /// The local dispatcher holding every routed expert, each on its own parameter stream
    /// (block, expert) so an expert-parallel rank can build just its own experts identically.
    public static func localExperts(name: String, _ configuration: ModelConfiguration, seed: UInt64, stream: [UInt64]) -> LocalExpertDispatcher {
        LocalExpertDispatcher(experts: (0..<configuration.experts).map { e in
            SwiGLU(name: "\(name).expert\(e)", hidden: configuration.hidden, inner: configuration.expertHidden,
                   layers: configuration.layers, seed: seed, stream: stream + [2, UInt64(e)])
        })
    }

    public func resetLoad() { expertLoad = [Int](repeating: 0, count: expertLoad.count) }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let n = input.rows, experts = dispatcher.expertCount
        let logits = Linear.forward(input, router)
        let scores = scoring == .sigmoid ? sigmoid(logits) : softmaxRows(logits)
        let chosen = selectExperts(scores: routingBias.allSatisfy { $0 == 0 } ? scores : biased(scores), topK: topK,
                                   groups: groups, topKGroups: topKGroups, scoring: scoring)
        let gates = gateWeights(scores: scores, chosen: chosen, topK: topK, normalize: normalizeGates, scaling: routedScaling)

        // Counting sort of the assignments by expert, tokens in order inside each expert.
        var counts = [Int](repeating: 0, count: experts)
        for e in chosen { counts[e] += 1 }
        var next = [Int](repeating: 0, count: experts)
        for e in 1..<experts { next[e] = next[e - 1] + counts[e - 1] }
        var rowToken = [Int](repeating: 0, count: chosen.count)
        var rowAssignment = [Int](repeating: 0, count: chosen.count)
        for (assignment, e) in chosen.enumerated() {
            rowToken[next[e]] = assignment / topK
            rowAssignment[next[e]] = assignment
            next[e] += 1
        }
        for e in 0..<experts { expertLoad[e] += counts[e] }

        // The shared expert computes while the routed rows travel to their experts.
        dispatcher.startForward(mb, ExpertBatch(rows: gatherRows(input, rowToken), counts: counts))
        var y = shared?.forward(mb, input) ?? Tensor(shape: [n, input.columns])
        let out = dispatcher.finishForward(mb)
        scatterAddRows(out, rowToken, weights: rowAssignment.map { gates[$0] }, into: &y)
        forwardContexts.store(mb, ForwardSaved(x: input, scores: scores, chosen: chosen, gates: gates,
                                               rowToken: rowToken, rowAssignment: rowAssignment, expertOutput: out),
                              "moe forward")
        return y
    }

    /// `scores` `[n, experts]` plus each expert's routing bias, for the choice of experts alone.
    private func biased(_ scores: Tensor) -> Tensor {
        var out = scores
        let experts = routingBias.count
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] += routingBias[i % experts] }
        }
        return out
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let s = forwardContexts.take(mb, "moe backwardInput")
        // Each dispatched row's output was scaled by its gate: route dy back scaled the same way.
        let dOut = gatherRows(outputGradient, s.rowToken, weights: s.rowAssignment.map { s.gates[$0] })
        let rowGateGradients = rowDots(outputGradient, rows: s.rowToken, s.expertOutput)
        var dGates = [Float](repeating: 0, count: s.gates.count)
        for (a, assignment) in s.rowAssignment.enumerated() { dGates[assignment] = rowGateGradients[a] }

        dispatcher.startBackward(mb, dOut)
        var dx = shared?.backwardInput(mb, outputGradient) ?? Tensor(shape: s.x.shape)
        scatterAddRows(dispatcher.finishBackward(mb), s.rowToken, into: &dx)

        let dScores = gateWeightsBackward(scores: s.scores, chosen: s.chosen, topK: topK, normalize: normalizeGates,
                                          scaling: routedScaling, gateGradient: dGates)
        let dLogits: Tensor
        switch scoring {
        case .softmax:
            dLogits = softmaxRowsBackward(probabilities: s.scores, outputGradient: dScores)
        case .sigmoid:
            dLogits = sigmoidBackward(sigmoidOutput: s.scores, outputGradient: dScores)
        }
        add(Linear.backwardInput(dLogits, router), into: &dx)
        weightContexts.store(mb, (s.x, dLogits), "moe backwardInput")
        return dx
    }

    public func backwardWeight(_ mb: Int) {
        let saved = weightContexts.take(mb, "moe backwardWeight")
        Linear.backwardWeight(saved.x, saved.dLogits, &router)
        shared?.backwardWeight(mb)
        dispatcher.backwardWeight(mb)
    }

    public func discard(_ mb: Int) {
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
        shared?.discard(mb)
        dispatcher.discard(mb)
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        body(&router)
        shared?.visitParameters(body)
        dispatcher.visitParameters(body)
    }
}
