/// How a simulation times an FB pair (and a BW) against its messages.
public enum PairTiming: Hashable, Sendable {
    /// One indivisible action: it starts once both of its inputs are here, and both of its
    /// outputs leave when it ends. The schedule's own accounting, as the DualPipe paper draws it.
    case atomic
    /// As the runtime runs a pair whose forward and backward phases alternate: the forward's
    /// output leaves when the forward ends, which with the phases alternating is after the
    /// forward and about half of the backward; the backward's input gradient leaves when the
    /// backward ends, before the pair's W (a BW's too, before its W). With `lateGradient` (the
    /// runtime's behaviour with EP 1) a pair whose gradient is not yet here starts anyway: its
    /// forward runs alone, and the backward and W follow once the forward is done and the
    /// gradient has come. Without it the pair starts only once both inputs are here.
    case interleaved(lateGradient: Bool)
    /// As the runtime runs a pair's forward and then its backward (`--no-overlap`): it starts
    /// with its forward, whose output leaves when it ends; the backward follows once the forward
    /// is done and the gradient is here, and its input gradient leaves before the pair's W (a
    /// BW's too, before its W).
    case sequential

    /// `atomic`, `interleaved`, `interleaved-late` or `sequential`, as `dualpipe simulate --pairs`
    /// spells it.
    public var name: String {
        switch self {
        case .atomic: "atomic"
        case .interleaved(let late): late ? "interleaved-late" : "interleaved"
        case .sequential: "sequential"
        }
    }
}

/// What an FB pair's forward, input-gradient backward and weight gradient would cost alone (a
/// BW's: no forward). A simulation scales the three to the action's own cost, so only their
/// proportions matter.
public struct PairParts: Hashable, Sendable {
    public var forward: Double
    public var backwardInput: Double
    public var backwardWeight: Double

    public init(forward: Double, backwardInput: Double, backwardWeight: Double) {
        self.forward = forward
        self.backwardInput = backwardInput
        self.backwardWeight = backwardWeight
    }

    /// F, B and W alike: what a replay splits by when told nothing, and what an atomic action,
    /// which ignores the split, is given.
    public static let even = PairParts(forward: 1, backwardInput: 1, backwardWeight: 1)
}

/// When an FB pair starts and ends, and when its two outputs can leave.
struct PairTimes {
    var start: Double
    var forwardOutput: Double
    var inputGradient: Double
    var end: Double

    /// `ready`: the rank free and the forward's input here; `gradient`: when the backward's output
    /// gradient is here; `cost`: the pair's whole cost, split in `parts`' proportions.
    init(_ timing: PairTiming, ready: Double, gradient: Double, cost: Double, parts: PairParts) {
        let sum = parts.forward + parts.backwardInput + parts.backwardWeight
        let scale = sum > 0 ? cost / sum : 0
        let f = scale * parts.forward, b = scale * parts.backwardInput, w = scale * parts.backwardWeight
        // Parts that cost nothing cannot say where the outputs fall inside the pair.
        switch sum > 0 ? timing : .atomic {
        case .atomic:
            start = max(ready, gradient)
            end = start + cost
            (forwardOutput, inputGradient) = (end, end)
        // A sequential pair always starts with its forward; an interleaving one that may take its
        // gradient late does so when the gradient comes after its input.
        case .sequential:
            fallthrough
        case .interleaved(lateGradient: true) where gradient > ready:
            start = ready
            forwardOutput = start + f
            let backward = max(gradient, forwardOutput)
            inputGradient = backward + b
            end = inputGradient + w
        case .interleaved:
            start = max(ready, gradient)
            forwardOutput = start + f + b / 2
            inputGradient = start + f + b
            end = start + cost
        }
    }
}
