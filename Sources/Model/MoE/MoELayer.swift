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
        var counts: [Int]        // [experts] rows per expert
        var expertOutput: Tensor // [n * topK, hidden], dispatched order (once combined)
        var partial: Tensor      // [n, hidden] the shared expert's output, between phases
    }
    private struct BackwardSaved {
        var forward: ForwardSaved
        var outputGradient: Tensor // [n, hidden]
        var gateGradients: [Float] // [n * topK]
        var partial: Tensor        // [n, hidden] the shared expert's input gradient, between phases
    }
    private var backwardContexts: [Int: BackwardSaved] = [:]
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

    /// Puts back saved routing biases (a checkpoint).
    public func restoreRoutingBias(_ bias: [Float]) {
        precondition(bias.count == routingBias.count, "\(bias.count) biases for \(routingBias.count) experts")
        routingBias = bias
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

    /// F, all phases: route, dispatch (post), experts (the shared one first, while the rows
    /// travel), combine.
    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        forwardRoute(mb, input)
        forwardDispatch(mb)
        forwardExperts(mb)
        return forwardCombine(mb)
    }

    /// F, route: the router's scores, each token's top-k experts and gates, and the rows sorted
    /// by expert (tokens in order inside each expert); counts the load.
    public func forwardRoute(_ mb: Int, _ input: Tensor) {
        let experts = dispatcher.expertCount
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
        forwardContexts.store(mb, ForwardSaved(x: input, scores: scores, chosen: chosen, gates: gates, rowToken: rowToken,
                                               rowAssignment: rowAssignment, counts: counts,
                                               expertOutput: Tensor(shape: [0]), partial: Tensor(shape: [0])), "moe forward")
    }

    /// F, dispatch: the routed rows go to their experts (an expert-parallel dispatcher posts its all-to-all).
    public func forwardDispatch(_ mb: Int) {
        guard let s = forwardContexts[mb] else { preconditionFailure("moe forwardDispatch: micro-batch \(mb) was not routed") }
        dispatcher.startForward(mb, ExpertBatch(rows: gatherRows(s.x, s.rowToken), counts: s.counts))
    }

    /// F, experts: the shared expert (while the routed rows travel), then the routed experts.
    public func forwardExperts(_ mb: Int) {
        guard var s = forwardContexts[mb] else { preconditionFailure("moe forwardExperts: micro-batch \(mb) was not routed") }
        s.partial = shared?.forward(mb, s.x) ?? Tensor(shape: [s.x.rows, s.x.columns])
        forwardContexts[mb] = s
        dispatcher.computeForward(mb)
    }

    /// F, combine: the experts' outputs come back, weighted by their gates, added to the shared expert's.
    public func forwardCombine(_ mb: Int) -> Tensor {
        // Out of the dictionary, so that `y` holds the shared expert's output alone and the
        // scatter adds into it without copying it first.
        guard var s = forwardContexts.removeValue(forKey: mb) else { preconditionFailure("moe forwardCombine: micro-batch \(mb) was not routed") }
        s.expertOutput = dispatcher.finishForward(mb)
        var y = s.partial
        s.partial = Tensor(shape: [0])
        scatterAddRows(s.expertOutput, s.rowToken, weights: s.rowAssignment.map { s.gates[$0] }, into: &y)
        forwardContexts[mb] = s
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

    /// B, all phases: dispatch the routed rows' gradients (post), experts (the shared one first),
    /// combine and the router's gradient.
    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        backwardDispatch(mb, outputGradient)
        backwardExperts(mb)
        return backwardCombine(mb)
    }

    /// B, dispatch: each routed row's output was scaled by its gate, so its gradient goes back
    /// scaled the same way; the gates' gradients are kept for the router.
    public func backwardDispatch(_ mb: Int, _ outputGradient: Tensor) {
        let s = forwardContexts.take(mb, "moe backwardInput")
        let dOut = gatherRows(outputGradient, s.rowToken, weights: s.rowAssignment.map { s.gates[$0] })
        let rowGateGradients = rowDots(outputGradient, rows: s.rowToken, s.expertOutput)
        var dGates = [Float](repeating: 0, count: s.gates.count)
        for (a, assignment) in s.rowAssignment.enumerated() { dGates[assignment] = rowGateGradients[a] }
        backwardContexts.store(mb, BackwardSaved(forward: s, outputGradient: outputGradient, gateGradients: dGates,
                                                 partial: Tensor(shape: [0])), "moe backwardInput")
        dispatcher.startBackward(mb, dOut)
    }

    /// B, experts: the shared expert's input gradient (while the rows travel), then the routed experts'.
    public func backwardExperts(_ mb: Int) {
        guard var b = backwardContexts[mb] else { preconditionFailure("moe backwardExperts: micro-batch \(mb) has no dispatched backward") }
        b.partial = shared?.backwardInput(mb, b.outputGradient) ?? Tensor(shape: b.forward.x.shape)
        backwardContexts[mb] = b
        dispatcher.computeBackward(mb)
    }

    /// B, combine: the rows' gradients come back to their tokens, and the router's gradient joins.
    public func backwardCombine(_ mb: Int) -> Tensor {
        var b = backwardContexts.take(mb, "moe backwardCombine")
        let s = b.forward
        var dx = b.partial
        b.partial = Tensor(shape: [0])  // `dx` alone holds it: the scatter adds in place
        scatterAddRows(dispatcher.finishBackward(mb), s.rowToken, into: &dx)
        let dScores = gateWeightsBackward(scores: s.scores, chosen: s.chosen, topK: topK, normalize: normalizeGates,
                                          scaling: routedScaling, gateGradient: b.gateGradients)
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
        backwardContexts[mb] = nil
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
