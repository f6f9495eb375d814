import Tensor

/// Which experts each token goes to, from its scores `[tokens, experts]` (DeepSeek-V3 style).
///
/// With group-limited routing (`topKGroups < groups`) the experts are split into `groups`
/// consecutive groups; each token first keeps the `topKGroups` best groups, then takes its
/// `topK` best experts inside them. A group's score is the sum of its two best expert scores
/// for sigmoid scoring (DeepSeek-V3) and its best score for softmax scoring (DeepSeek-V2).
/// Returns `[tokens * topK]` expert indices, best first per token.
public func selectExperts(
    scores: Tensor, topK k: Int, groups: Int, topKGroups: Int, scoring: RouterScoring
) -> [Int] {
    let experts = scores.columns
    guard groups > 1 && topKGroups < groups else { return topK(scores, k: k) }
    precondition(experts % groups == 0, "selectExperts: \(experts) experts do not split into \(groups) groups")
    let perGroup = experts / groups
    let best = scoring == .sigmoid ? min(2, perGroup) : 1
    var groupScores = Tensor(shape: [scores.rows, groups])  // [tokens, groups]
    for t in 0..<scores.rows {
        for g in 0..<groups {
            // The best one or two scores of the group, found in one scan.
            var first = -Float.infinity, second = -Float.infinity
            for e in (g * perGroup)..<((g + 1) * perGroup) {
                let s = scores[t, e]
                if s > first { second = first; first = s } else if s > second { second = s }
            }
            groupScores[t, g] = best == 2 ? first + second : first
        }
    }
    let keptGroups = topK(groupScores, k: topKGroups)
    var allowed = [Bool](repeating: false, count: scores.count)
    for t in 0..<scores.rows {
        for g in keptGroups[(t * topKGroups)..<((t + 1) * topKGroups)] {
            for e in (g * perGroup)..<((g + 1) * perGroup) { allowed[t * experts + e] = true }
        }
    }
    return topK(scores, k: k, allowed: allowed)
}

/// The gate weights of the chosen experts `[tokens * topK]`: their scores, renormalised to sum
/// to one per token when `normalize`, times `scaling`.
public func gateWeights(scores: Tensor, chosen: [Int], topK k: Int, normalize: Bool, scaling: Float) -> [Float] {
    var gates = [Float](repeating: 0, count: chosen.count)
    for t in 0..<scores.rows {
        var total: Float = 0
        for s in 0..<k { total += scores[t, chosen[t * k + s]] }
        // score / total (not score · (1/total)) so a lone chosen expert gets exactly 1.
        for s in 0..<k {
            let score = scores[t, chosen[t * k + s]]
            gates[t * k + s] = scaling * (normalize ? score / total : score)
        }
    }
    return gates
}

/// The gradient of `gateWeights` with respect to all scores `[tokens, experts]` (zero for
/// experts not chosen; the choice itself is piecewise constant). With `Z = Σ_chosen s`:
/// `∂g_i/∂s_m = c (δ_im / Z - s_i / Z²)` when normalised.
public func gateWeightsBackward(
    scores: Tensor, chosen: [Int], topK k: Int, normalize: Bool, scaling: Float, gateGradient dg: [Float]
) -> Tensor {
    var ds = Tensor(shape: scores.shape)
    for t in 0..<scores.rows {
        if normalize {
            var total: Float = 0, inner: Float = 0
            for s in 0..<k {
                let score = scores[t, chosen[t * k + s]]
                total += score
                inner += dg[t * k + s] * score
            }
            for s in 0..<k {
                ds[t, chosen[t * k + s]] += scaling * (dg[t * k + s] / total - inner / (total * total))
            }
        } else {
            for s in 0..<k { ds[t, chosen[t * k + s]] += scaling * dg[t * k + s] }
        }
    }
    return ds
}
