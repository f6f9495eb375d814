import Tensor

/// A stage's F or B of one micro-batch as a list of phases: pieces of compute, each ending where
/// an exchange has just been posted (an MoE layer's dispatch or combine all-to-all) or at the end.
/// Run in order they do exactly what `Stage.forward` / `Stage.backwardInput` do, operation for
/// operation; the F&B overlap runs the phases of a forward and of a backward alternately, so that
/// each one's messages fly while the other computes.
public final class PhaseList {
    public private(set) var phases: [() -> Void] = []
    /// What the pass produced once its last phase has run: F's output (the activation, or the
    /// loss as `[1]`), or B's input gradient.
    public internal(set) var result: Tensor?

    init() {}

    func add(_ phase: @escaping () -> Void) { phases.append(phase) }

    /// Runs every phase in order and returns the result.
    public func runAll() -> Tensor {
        for phase in phases { phase() }
        return result!
    }
}

extension Stage {
    /// F of micro-batch `mb` as phases (see `forward`).
    public func forwardPhases(_ mb: Int, _ input: Tensor, targets: [Int]? = nil) -> PhaseList {
        let list = PhaseList()
        var x = input
        if let embedding { list.add { x = embedding.forward(mb, x) } }
        for block in blocks {
            guard let moe = block.ffn as? MoELayer else {
                list.add { x = block.forward(mb, x) }
                continue
            }
            var h = Tensor(shape: [0])
            list.add {
                h = block.forwardAttention(mb, x)
                moe.forwardRoute(mb, block.ffnNorm.forward(mb, h))
                moe.forwardDispatch(mb)
            }
            list.add { moe.forwardExperts(mb) }
            list.add {
                x = moe.forwardCombine(mb)
                add(h, into: &x)
            }
        }
        list.add { [self, unowned list] in
            guard let head else { list.result = x; return }
            guard let targets else { preconditionFailure("stage \(index) holds the head: forward needs the targets") }
            list.result = Tensor(shape: [1], scalars: [head.forward(mb, x, targets: targets)])
        }
        return list
    }

    /// B of micro-batch `mb` as phases (see `backwardInput`).
    public func backwardInputPhases(_ mb: Int, _ outputGradient: Tensor) -> PhaseList {
        let list = PhaseList()
        var d = outputGradient
        if let head {
            list.add { [self] in
                precondition(outputGradient.count == 1, "stage \(index) holds the head: its output gradient is [1], got \(outputGradient.shape)")
                d = head.backwardInput(mb, lossGradient: outputGradient.scalars[0])
            }
        }
        for block in blocks.reversed() {
            guard let moe = block.ffn as? MoELayer else {
                list.add { d = block.backwardInput(mb, d) }
                continue
            }
            var dy = Tensor(shape: [0])
            list.add {
                dy = d
                moe.backwardDispatch(mb, dy)
            }
            list.add { moe.backwardExperts(mb) }
            list.add {
                var dh = block.ffnNorm.backwardInput(mb, moe.backwardCombine(mb))
                add(dy, into: &dh)
                d = block.backwardAttention(mb, dh)
            }
        }
        list.add { [self, unowned list] in list.result = embedding?.backwardInput(mb, d) ?? d }
        return list
    }
}

/// Runs the phases of an F and a B alternately, one phase of each in turn, so that a phase that
/// ends by posting an exchange is followed by the other pass's compute while it flies.
/// `between` runs after every phase (to let MPI progress the exchanges in flight).
public func interleave(_ forward: PhaseList, _ backward: PhaseList, between: () -> Void = {}) {
    _ = interleave(forward, lateBackward: { _ in backward }, between: between)
}

/// `interleave` for a pair whose backward input may still be in flight when the pair starts:
/// `backward(blocking)` returns B's phases once B's output gradient is here, nil while it is not
/// (it blocks only when `blocking`). Until then F's phases run back to back; with F done, the
/// pair blocks for the gradient. In a pipeline the gradient of an FB pair is often the one
/// message produced last on the other rank, so F's compute covers its flight. Once B has its
/// input the two alternate as in `interleave`; from the start when it is already here.
/// `forwardDone` runs as soon as F's last phase has (F's output can leave before B ends).
/// Returns B's phase list.
public func interleave(
    _ forward: PhaseList, lateBackward backward: (_ blocking: Bool) throws -> PhaseList?,
    forwardDone: () -> Void = {}, between: () -> Void = {}
) rethrows -> PhaseList {
    var f = 0, b = 0
    var late = try backward(false)
    while true {
        if f < forward.phases.count {
            forward.phases[f]()
            f += 1
            if f == forward.phases.count { forwardDone() }
            between()
        }
        if late == nil {
            let mustHave = f == forward.phases.count
            late = try backward(mustHave)
            precondition(late != nil || !mustHave, "interleave: B's input still missing after a blocking wait")
        }
        guard let list = late else { continue }
        if b < list.phases.count { list.phases[b](); b += 1; between() }
        if f == forward.phases.count && b == list.phases.count { return list }
    }
}

/// An FB pair's F, then its B, phase by phase: what a pair runs when there is nothing inside a
/// stage to hide (EP 1: the expert exchanges stay on the rank), so each pass keeps its caches.
/// `forwardDone` runs as soon as F's last phase has, so F's output leaves while B computes;
/// `backward(true)` is asked for B's phases only then, so B's output gradient flies while F
/// runs. The phase order never depends on when a message came, so every rank of an EP group
/// starts its exchanges in the same order. Returns B's phase list.
public func inSequence(
    _ forward: PhaseList, lateBackward backward: (_ blocking: Bool) throws -> PhaseList?,
    forwardDone: () -> Void = {}, between: () -> Void = {}
) rethrows -> PhaseList {
    for (k, phase) in forward.phases.enumerated() {
        phase()
        if k == forward.phases.count - 1 { forwardDone() }
        between()
    }
    guard let list = try backward(true) else { preconditionFailure("inSequence: B's input still missing after a blocking wait") }
    for phase in list.phases { phase(); between() }
    return list
}
