extension Costs {
    var summary: String {
        "F=\(fmt(forward)) B=\(fmt(backwardInput)) W=\(fmt(backwardWeight)) BW=\(fmt(backward)) FB=\(fmt(forwardBackward)) latency=\(fmt(latency))" + (transfer > 0 ? " transfer=\(fmt(transfer))" : "")
    }
    var json: String {
        #"{"F":\#(fmt(forward)),"B":\#(fmt(backwardInput)),"W":\#(fmt(backwardWeight)),"BW":\#(fmt(backward)),"FB":\#(fmt(forwardBackward)),"latency":\#(fmt(latency)),"transfer":\#(fmt(transfer))}"#
    }
}

/// Pads every column of a table to its widest cell.
func table(_ rows: [[String]]) -> String {
    let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in cell + String(repeating: " ", count: widths[c] - cell.count) }
            .joined(separator: "  ").replacingTrailingSpaces()
    }.joined(separator: "\n") + "\n"
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension NodePlacement {
    /// What a message between nodes costs, beside the costs' line (whose latency is then the one
    /// inside a node).
    var summary: String {
        "\(ranksPerNode) rank\(ranksPerNode == 1 ? "" : "s") a node; between nodes latency=\(fmt(latency))" + (transfer > 0 ? " transfer=\(fmt(transfer))" : "")
            + ", inside a node the costs' latency and transfer"
    }
    var nodesJSON: String { "[" + nodes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]" }
    var json: String {
        #"{"ranksPerNode":\#(ranksPerNode),"latency":\#(fmt(latency)),"transfer":\#(fmt(transfer)),"nodes":\#(nodesJSON)}"#
    }
}

extension Simulation {
    /// The human report of `dualpipe simulate`.
    public func report() -> String {
        let s = schedule
        var out = "\(s.kind.title): \(s.ranks) ranks, \(s.stages) stages, \(s.microBatches) micro-batches\n"
        out += "costs: \(costs.summary)\(costsPerStage ? " (each kind's mean; every action costed at its own stage's and rank's)" : ""); FB pairs: \(pairs.name)\n"
        if let placement { out += "nodes: \(placement.nodesSummary) (pipeline ranks); \(placement.summary)\n" }
        out += "makespan \(fmt(makespan))  bubble (largest rank idle) \(fmt(bubble))  \(BubbleFormula.source(s.kind)) formula \(BubbleFormula.text(s.kind, stagesPerRank: s.stagesPerRank)) = \(BubbleFormula.shown(BubbleFormula.readme(s.kind, stages: s.stages, stagesPerRank: s.stagesPerRank, costs: costs), s.kind))  bubble ratio \(fmt(bubbleRatio))\n"
        let whole = wholeStep
        if let whole, let gradientSums { out += whole.summary(makespan: makespan, costs: gradientSums, placed: placement != nil) + "\n" }
        out += "\n"
        var rows = [["rank", "stages", "busy", "idle", "peak activations", "kept until W", "parameter copies"]
            + (placement == nil ? [] : ["node"]) + (whole == nil ? [] : ["step end"])]
        let kept = s.savedContexts
        for r in 0..<s.ranks {
            var row = [String(r), s.stagesHeld(by: r).map(String.init).joined(separator: ","), fmt(busy[r]), fmt(idle[r]),
                       String(peakActivations[r]), String(kept[r]), String(parameterCopies[r])]
            if let placement { row.append(String(placement.node(of: r))) }
            if let whole { row.append(fmt(whole.end[r])) }
            rows.append(row)
        }
        return out + table(rows)
    }

    /// The JSON report of `dualpipe simulate --format json`.
    public func reportJSON() -> String {
        let s = schedule
        let kept = s.savedContexts
        let whole = wholeStep
        let ranks = (0..<s.ranks).map { r in
            #"{"rank":\#(r),"stages":[\#(s.stagesHeld(by: r).map(String.init).joined(separator: ","))],"busy":\#(fmt(busy[r])),"idle":\#(fmt(idle[r])),"peakActivations":\#(peakActivations[r]),"keptUntilW":\#(kept[r]),"parameterCopies":\#(parameterCopies[r])\#(whole.map { #","stepEnd":\#(fmt($0.end[r]))"# } ?? "")}"#
        }
        var sums = ""
        if let whole, let gradientSums { sums = #""gradientSums":\#(whole.json(gradientSums)),"wholeStep":\#(fmt(whole.makespan)),"# }
        return #"{"kind":"\#(s.kind.rawValue)","ranks":\#(s.ranks),"stages":\#(s.stages),"microbatches":\#(s.microBatches),"costs":\#(costs.json),"costsPerStage":\#(costsPerStage),"pairs":"\#(pairs.name)",\#(placement.map { #""nodes":\#($0.json),"# } ?? "")"makespan":\#(fmt(makespan)),\#(sums)"bubble":\#(fmt(bubble)),"bubbleRatio":\#(bubbleRatio),"perRank":[\#n  "#
            + ranks.joined(separator: ",\n  ") + "\n]}\n"
    }
}

extension GradientSumCosts {
    /// What a sum costs, in the reports' words: both costs where the ranks sit on nodes.
    func summary(placed: Bool) -> String {
        placed ? "\(fmt(inside)) inside a node, \(fmt(between)) between nodes" : fmt(inside)
    }
}

extension WholeStep {
    /// The report's line: the whole step, what a sum cost, and which ran during the schedule.
    func summary(makespan: Double, costs: GradientSumCosts, placed: Bool) -> String {
        let cost = costs.summary(placed: placed)
        guard !sums.isEmpty else { return "whole step \(fmt(self.makespan)): no stage is held by two ranks, so nothing to sum (a sum \(cost))" }
        let early = sums.filter(\.early).map { String($0.stage) }
        let during = early.isEmpty ? "all after the schedule" : "stage\(early.count == 1 ? "" : "s") \(early.joined(separator: ",")) during the schedule (across nodes, from when both copies are final), the rest after it"
        return "whole step \(fmt(self.makespan)) with the gradient sums of the \(sums.count) stages held twice (a sum \(cost)): \(during); the sums add \(fmt(self.makespan - makespan))"
    }

    func json(_ costs: GradientSumCosts) -> String {
        let items = sums.map { #"{"stage":\#($0.stage),"ranks":[\#($0.ranks.map(String.init).joined(separator: ","))],"start":\#(fmt($0.start)),"end":\#(fmt($0.end)),"early":\#($0.early)}"# }
        return #"{"inside":\#(fmt(costs.inside)),"between":\#(fmt(costs.between)),"sums":[\#(items.joined(separator: ","))]}"#
    }
}

extension Comparison {
    /// The side-by-side table of `dualpipe simulate --compare`.
    public func report() -> String {
        var out = "PP = \(stages) stages, M = \(microBatches) micro-batches; costs: \(costs.summary); FB pairs: \(pairs.name)\n"
        if let placement = rows.lazy.compactMap({ $0.simulation?.placement }).first {
            out += "nodes: \(placement.summary); each kind's pipeline ranks on the nodes in its column\n"
        }
        if let sums = rows.lazy.compactMap({ $0.simulation?.gradientSums }).first {
            out += "whole step: the schedule, then the sums of the stages a kind holds twice (DualPipe's two copies), a sum costing \(sums.summary(placed: hasPlacement))\n"
        }
        out += "\n"
        let header = ["kind", "ranks", "makespan", "bubble", "README bubble", "formula", "bubble ratio", "activations/rank", "parameters/rank"]
            + (hasPlacement ? ["nodes"] : []) + (hasSums ? ["whole step"] : [])
        let notes = rows.filter { $0.skipped != nil }.map { "\($0.kind.title): skipped, \($0.skipped!)" }
            + rows.filter { $0.simulation != nil }.compactMap { row in BubbleFormula.note(row.kind, stagesPerRank: row.stagesPerRank).map { "\(row.kind.title): \($0)" } }
        out += table([header] + tableRows())
        if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        return out
    }

    private func tableRows() -> [[String]] {
        rows.compactMap { row in
            guard let sim = row.simulation else { return nil }
            return [row.kind.title, String(row.ranks), fmt(sim.makespan), fmt(sim.bubble), BubbleFormula.shown(row.formula, row.kind),
                    BubbleFormula.text(row.kind, stagesPerRank: row.stagesPerRank), String(format3(sim.bubbleRatio)),
                    String(sim.peakActivations.max() ?? 0), "\(sim.parameterCopies.max() ?? 0)x"]
                + (hasPlacement ? [sim.placement?.nodesSummary ?? "-"] : []) + (sim.wholeStep.map { [fmt($0.makespan)] } ?? [])
        }
    }

    private var hasPlacement: Bool { rows.contains { $0.simulation?.placement != nil } }
    private var hasSums: Bool { rows.contains { $0.simulation?.gradientSums != nil } }

    /// The JSON form of `dualpipe simulate --compare --format json`.
    public func reportJSON() -> String {
        let items = rows.map { row -> String in
            guard let sim = row.simulation else {
                return #"{"kind":"\#(row.kind.rawValue)","ranks":\#(row.ranks),"skipped":"\#(row.skipped ?? "")"}"#
            }
            return #"{"kind":"\#(row.kind.rawValue)","ranks":\#(row.ranks),"makespan":\#(fmt(sim.makespan)),"bubble":\#(fmt(sim.bubble)),"readmeBubble":\#(row.formula.isNaN ? "null" : fmt(row.formula)),"bubbleRatio":\#(sim.bubbleRatio),"peakActivations":\#(sim.peakActivations.max() ?? 0),"parameterCopies":\#(sim.parameterCopies.max() ?? 0)\#(sim.placement.map { #","nodes":\#($0.nodesJSON)"# } ?? "")\#(sim.wholeStep.map { #","wholeStep":\#(fmt($0.makespan))"# } ?? "")}"#
        }
        let nodes = rows.lazy.compactMap({ $0.simulation?.placement }).first.map {
            #""nodes":{"ranksPerNode":\#($0.ranksPerNode),"latency":\#(fmt($0.latency)),"transfer":\#(fmt($0.transfer))},"#
        } ?? ""
        return #"{"stages":\#(stages),"microbatches":\#(microBatches),"costs":\#(costs.json),"pairs":"\#(pairs.name)",\#(nodes)"kinds":[\#n  "# + items.joined(separator: ",\n  ") + "\n]}\n"
    }
}

func format3(_ v: Double) -> String {
    let scaled = (v * 1000).rounded() / 1000
    return String(scaled)
}
