import ArgumentParser
import Schedule

// The titled sections of `dualpipe simulate --help`; their rules across sections are
// SimulateCommand.validate()'s.

/// What each action costs, given or measured by a `train --trace`, and what the sum of a stage's
/// two copies after the schedule costs.
struct SimulationCosts: ParsableArguments {
    @Option(name: .customLong("cost-f"), help: "Cost of a forward F (default: 1, or the trace's).")
    var costF: Double?
    @Option(name: .customLong("cost-b"), help: "Cost of an input-gradient backward B (default: 1, or the trace's).")
    var costB: Double?
    @Option(name: .customLong("cost-w"), help: "Cost of a weight-gradient backward W (default: 1, or the trace's).")
    var costW: Double?
    @Option(name: .customLong("cost-bw"), help: "Cost of a full backward BW (default: B + W, or the trace's).")
    var costBW: Double?
    @Option(name: .customLong("cost-fb"), help: "Cost of an overlapped forward and full backward FB (default: F + BW, or the trace's).")
    var costFB: Double?
    @Option(name: .customLong("costs-from-trace"), help: ArgumentHelp("Take F, B, W, BW and FB from a `dualpipe train --trace` file: each kind's mean compute time in milliseconds over the traced step (a pair's time blocked inside left out; a kind the step did not run as the others imply it, BW = B + W, FB = F + BW; BW raised to max(B, W) and FB to max(F, BW) where the means fall below). Where the trace ran the simulated schedule itself (the same kind, PP and M) and no --cost-* flag is given, each action costs its own stage's and rank's mean instead. A --cost-* flag given too wins and moves the kinds built from it (a B or W: BW = B + W; an F or BW: FB by as much, keeping the trace's overlap saving, never below max(F, BW)); --latency and --transfer stay yours to give, in milliseconds (default: none).", valueName: "file"))
    var costsFromTrace: String?
    @Option(name: .customLong("gradient-sum"), help: ArgumentHelp("Also time the step to its end: the sum of each stage held by two ranks (DualPipe's copies) costs C, started once both ranks are free after the schedule, in stage order, as train sums them; across nodes, a stage whose copies are final on both ranks before their last action is summed during the schedule (default: none; the report ends with the schedule).", valueName: "C"))
    var gradientSum: Double?

    @Option(help: ArgumentHelp("""
        How an FB pair meets its messages: atomic (one action: it starts once both inputs are here, both outputs \
        leave when it ends), interleaved (as the runtime runs it: the forward's output leaves after the forward and \
        half the backward, the backward's gradient before the pair's W, a BW's gradient before its W too), \
        interleaved-late (also starts with its forward while its gradient is in flight, as the runtime does with EP 1), \
        sequential (its forward, whose output leaves when it ends, then its backward once the gradient is here: the \
        runtime's pairs with EP 1 on one node, or with --no-overlap).
        """, valueName: "atomic|interleaved|interleaved-late|sequential"))
    var pairs: SimulatedPairs = .atomic
}

/// How the simulator times an FB pair's messages (`PairTiming`).
enum SimulatedPairs: String, ExpressibleByArgument, CaseIterable {
    case atomic, interleaved
    case interleavedLate = "interleaved-late"
    case sequential

    var timing: PairTiming {
        switch self {
        case .atomic: .atomic
        case .interleaved: .interleaved(lateGradient: false)
        case .interleavedLate: .interleaved(lateGradient: true)
        case .sequential: .sequential
        }
    }
}

/// What a message costs, inside a node and between nodes, and where the ranks sit.
struct SimulationLinks: ParsableArguments {
    @Option(help: "Latency of one point-to-point message, from its send to its arrival.")
    var latency: Double = 0
    @Option(help: "The time a message holds the link from one rank to another (its size over the link's sustained rate); the messages on one link take turns, each arriving --latency after its turn began (default: 0, the link never busy).")
    var transfer: Double = 0
    @Option(name: .customLong("ranks-per-node"), help: ArgumentHelp("Spread the ranks over nodes of K ranks each, filled in world-rank order (as a hostfile or Slurm's block distribution packs them), and price a message between nodes at --inter-node-latency and --inter-node-transfer; --latency and --transfer are then the costs inside a node (default: one node).", valueName: "K"))
    var ranksPerNode: Int?
    @Option(name: .customLong("inter-node-latency"), help: "With --ranks-per-node, the latency of a message between nodes (default: --latency).")
    var interNodeLatency: Double?
    @Option(name: .customLong("inter-node-transfer"), help: "With --ranks-per-node, the time a message holds a link between nodes (default: --transfer).")
    var interNodeTransfer: Double?
    @Option(name: .customLong("rank-order"), help: ArgumentHelp("With --ranks-per-node, where DualPipe's pipeline ranks sit, as train's: pipeline (world rank = pp), mirror (pp 0, PP-1, 1, PP-2, ...: each mirror pair side by side, their gradient sums inside a node and more pipeline hops across), or auto: mirror when DualPipe's pairs would span nodes in pipeline order and fewer do in mirror order. The other kinds keep the pipeline order.", valueName: "auto|pipeline|mirror"))
    var rankOrder: RankOrderChoice = .auto
    @Option(name: .customLong("inter-node-gradient-sum"), help: ArgumentHelp("With --ranks-per-node, what such a sum costs when the two ranks sit on different nodes (default: --gradient-sum).", valueName: "C"))
    var interNodeGradientSum: Double?
}

/// The report's format, the comparison of every kind, and the pictures.
struct SimulationOutput: ParsableArguments {
    @Option(help: "Output format: text or json.")
    var format: SimulateCommand.Format = .text
    @Flag(help: "Print every kind side by side for this number of stages and micro-batches (default: off).")
    var compare = false
    @Option(help: "Also write the timeline as a Chrome trace (Perfetto) to this file (default: none).")
    var trace: String?
    @Option(help: "Also write the timeline as an SVG picture to this file (default: none).")
    var svg: String?
}
