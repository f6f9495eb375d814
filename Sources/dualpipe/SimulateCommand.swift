import ArgumentParser
import Foundation
import Schedule

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Time a pipeline schedule under given costs: makespan, idle, bubble, activations, parameters.",
        discussion: """
        An action starts when its rank is free and its inputs have arrived; a message arrives \
        --latency after the action that produced it ends. The bubble is the largest idle time of \
        any rank (makespan minus the rank's busy time). --compare runs every kind for the same \
        number of stages (DualPipeV on N/2 ranks) and prints the README formula next to it.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var selection: ScheduleSelection

    @Option(name: .customLong("cost-f"), help: "Cost of a forward F.")
    var costF: Double = 1
    @Option(name: .customLong("cost-b"), help: "Cost of an input-gradient backward B.")
    var costB: Double = 1
    @Option(name: .customLong("cost-w"), help: "Cost of a weight-gradient backward W.")
    var costW: Double = 1
    @Option(name: .customLong("cost-bw"), help: "Cost of a full backward BW (default: B + W).")
    var costBW: Double?
    @Option(name: .customLong("cost-fb"), help: "Cost of an overlapped forward and full backward FB (default: F + BW).")
    var costFB: Double?
    @Option(help: "Latency of one point-to-point message.")
    var latency: Double = 0

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(help: "Print every kind side by side for this number of stages and micro-batches (default: off).")
    var compare = false

    @Option(help: "Also write the timeline as a Chrome trace (Perfetto) to this file (default: none).")
    var trace: String?

    @Option(help: "Also write the timeline as an SVG picture to this file (default: none).")
    var svg: String?

    var costs: Costs {
        Costs(forward: costF, backwardInput: costB, backwardWeight: costW,
              backward: costBW, forwardBackward: costFB, latency: latency)
    }

    func validate() throws {
        for (name, value) in [("--cost-f", costF), ("--cost-b", costB), ("--cost-w", costW),
                              ("--cost-bw", costBW ?? 0), ("--cost-fb", costFB ?? 0), ("--latency", latency)]
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a finite number >= 0, got \(value)")
        }
        if compare {
            guard selection.ranks >= 1 else { throw ValidationError("--ranks must be >= 1 (N >= 1), got \(selection.ranks)") }
            if trace != nil || svg != nil { throw ValidationError("--trace and --svg draw one schedule; leave them out with --compare") }
        } else {
            _ = try selection.configuration()
        }
    }

    func run() throws {
        if compare {
            let comparison = Comparison(stages: selection.ranks, microBatches: selection.microBatches, costs: costs)
            try emit(format == .json ? comparison.reportJSON() : comparison.report(), to: nil)
            return
        }
        let simulation = try selection.validatedSchedule().simulate(costs)
        try emit(format == .json ? simulation.reportJSON() : simulation.report(), to: nil)
        if let trace { try emit(simulation.chromeTrace(), to: trace) }
        if let svg { try emit(simulation.svg(), to: svg) }
    }
}
