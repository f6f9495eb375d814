import Tensor

/// Token rows bound for the experts, grouped by expert: the first `counts[0]` rows go to
/// expert 0, the next `counts[1]` to expert 1, and so on. This is the layout an all-to-all
/// needs: each expert's (or each rank's) rows are one contiguous block.
public struct ExpertBatch: Sendable {
    public var rows: Tensor   // [assignments, hidden]
    public var counts: [Int]  // [experts], sums to assignments

    public init(rows: Tensor, counts: [Int]) {
        precondition(counts.reduce(0, +) == rows.rows, "expert batch: counts sum to \(counts.reduce(0, +)), rows are \(rows.rows)")
        self.rows = rows
        self.counts = counts
    }
}

/// How an MoE layer reaches its routed experts: "send these token rows to these experts and
/// give me their outputs back", for F, and the same in reverse for B. The local dispatcher runs
/// every expert in this process; an expert-parallel one sends each block to the rank holding
/// that expert and must return the same numbers.
///
/// Every call is per micro-batch `mb` and follows the layer's F, B, W order; the dispatcher
/// keeps whatever its experts need between the calls.
///
/// F and B each come in three phases, so that other work can run while an expert-parallel
/// dispatcher's rows are on the wire: `start` hands the rows over (posts the dispatch exchange),
/// `compute` runs the experts on what arrived (and posts the combine exchange), `finish` returns
/// the results. Each phase of a micro-batch runs once, in that order; `forward` and
/// `backwardInput` run all three.
public protocol ExpertDispatcher: ParameterOwner {
    /// Routed experts of the layer (all of them, wherever they live).
    var expertCount: Int { get }
    /// F, dispatch: `batch.rows` `[assignments, hidden]` grouped by expert.
    func startForward(_ mb: Int, _ batch: ExpertBatch)
    /// F, the experts.
    func computeForward(_ mb: Int)
    /// F, combine: each row's expert output, same order, `[assignments, hidden]`, not yet
    /// weighted by its gate.
    func finishForward(_ mb: Int) -> Tensor
    /// B, dispatch: gradients of those outputs `[assignments, hidden]` (same order).
    func startBackward(_ mb: Int, _ outputGradient: Tensor)
    /// B, the experts' input gradients.
    func computeBackward(_ mb: Int)
    /// B, combine: the gradients of the dispatched rows, same order.
    func finishBackward(_ mb: Int) -> Tensor
    /// W: the experts accumulate their parameter gradients of micro-batch `mb`.
    func backwardWeight(_ mb: Int)
    /// Frees what micro-batch `mb` saved (a forward-only pass ends with this).
    func discard(_ mb: Int)
}

extension ExpertDispatcher {
    /// F, all phases.
    public func forward(_ mb: Int, _ batch: ExpertBatch) -> Tensor {
        startForward(mb, batch)
        computeForward(mb)
        return finishForward(mb)
    }

    /// B, all phases.
    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        startBackward(mb, outputGradient)
        computeBackward(mb)
        return finishBackward(mb)
    }
}

/// All experts in this process: each block of rows goes through its expert's SwiGLU.
public final class LocalExpertDispatcher: ExpertDispatcher {
    public let experts: [SwiGLU]
    private var counts: [Int: [Int]] = [:] // mb -> [experts]
    private var pending: [Int: Tensor] = [:] // mb -> rows or results between two phases

    public init(experts: [SwiGLU]) { self.experts = experts }

    public var expertCount: Int { experts.count }

    /// The half-open row ranges of each expert's block.
    private func blocks(_ counts: [Int]) -> [Range<Int>] {
        var start = 0
        return counts.map { c in defer { start += c }; return start..<(start + c) }
    }

    /// Nothing travels: `start` keeps the rows, `compute` runs the experts, `finish` hands the result over.
    public func startForward(_ mb: Int, _ batch: ExpertBatch) {
        precondition(batch.counts.count == experts.count, "dispatcher: \(batch.counts.count) counts for \(experts.count) experts")
        counts.store(mb, batch.counts, "expert dispatch forward")
        pending.store(mb, batch.rows, "expert dispatch forward")
    }

    public func computeForward(_ mb: Int) {
        let rows = pending.take(mb, "expert dispatch computeForward"), c = counts[mb]!
        pending.store(mb, runBlocks(rows, c) { e, block in experts[e].forward(mb, block) }, "expert dispatch computeForward")
    }

    public func finishForward(_ mb: Int) -> Tensor { pending.take(mb, "expert dispatch finishForward") }

    public func startBackward(_ mb: Int, _ outputGradient: Tensor) {
        precondition(counts[mb] != nil, "expert dispatch backwardInput: no forward of micro-batch \(mb)")
        pending.store(mb, outputGradient, "expert dispatch backwardInput")
    }

    public func computeBackward(_ mb: Int) {
        let gradient = pending.take(mb, "expert dispatch computeBackward"), c = counts[mb]!
        pending.store(mb, runBlocks(gradient, c) { e, block in experts[e].backwardInput(mb, block) }, "expert dispatch computeBackward")
    }

    public func finishBackward(_ mb: Int) -> Tensor { pending.take(mb, "expert dispatch finishBackward") }

    public func backwardWeight(_ mb: Int) {
        _ = counts.take(mb, "expert dispatch backwardWeight")
        for expert in experts { expert.backwardWeight(mb) }
    }

    public func discard(_ mb: Int) {
        counts[mb] = nil
        pending[mb] = nil
        for expert in experts { expert.discard(mb) }
    }

    /// Applies `body` to each expert's block of `x` (its rows are consecutive) and stacks the
    /// results in the same order: copies of contiguous rows, no gather, no zeroed sum.
    private func runBlocks(_ x: Tensor, _ counts: [Int], _ body: (Int, Tensor) -> Tensor) -> Tensor {
        precondition(counts.reduce(0, +) == x.rows, "dispatcher: counts \(counts) do not add up to \(x.rows) rows")
        var out = Tensor(uninitializedShape: x.shape)  // the blocks cover every row
        for (e, range) in blocks(counts).enumerated() {
            setRows(startingAt: range.lowerBound, of: &out, to: body(e, rows(range, of: x)))
        }
        return out
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        for expert in experts { expert.visitParameters(body) }
    }
}
