import ArgumentParser
import Foundation
import JSONDiagnostics
import Pipeline
import Schedule

/// The selectors shared by `schedule` and `simulate`: which schedule, on how many ranks, with how
/// many micro-batches. The rules live in `ScheduleConfiguration`; this only reports them.
struct ScheduleSelection: ParsableArguments {
    // `train` spells these --schedule and --pp; the same words work here, so a line copied from
    // a training command names the schedule it trains rather than being refused.
    @Option(name: [.long, .customLong("schedule")], help: "Schedule kind: dualpipe, dualpipev, 1f1b, zb1p, gpipe, interleaved1f1b, zbv, interleavedzb or loopedbfs.")
    var kind: String = "dualpipe"

    @Option(name: [.customShort("n"), .long, .customLong("pp")], help: "Number of pipeline ranks N; with simulate --compare, the number of stages PP.")
    var ranks: Int = 8

    /// Every spelling of `kind` and `ranks`, for refusals: ArgumentParser does not say which was typed.
    static let kindFlags = "--kind/--schedule"
    static let ranksFlags = "-n/--ranks/--pp"

    @Option(name: [.customShort("m"), .customLong("micro-batches")], help: "Number of micro-batches M.")
    var microBatches: Int = 20

    @Option(name: .customLong("stages-per-rank"), help: ArgumentHelp(
        "Stages V each rank holds, the model chunks of Interleaved 1F1B, Interleaved ZB and Looped BFS (Megatron-LM's virtual pipeline size), 2 to \(ScheduleConfiguration.maximumStagesPerRank) (default: 2). The other kinds' V is fixed.",
        valueName: "V"))
    var stagesPerRank: Int?

    func configuration() throws -> ScheduleConfiguration {
        do {
            return try ScheduleConfiguration(kindName: kind, ranks: ranks, microBatches: microBatches, stagesPerRank: stagesPerRank)
        } catch let error as ScheduleError {
            throw ValidationError("\(flags(of: error)): \(error.description)")
        }
    }

    /// The flags a configuration error is about, with their values.
    func flags(of error: ScheduleError) -> String {
        switch error {
        case .unknownKind: "\(Self.kindFlags) \(kind)"
        case .tooFewRanks, .oddRanks: "\(Self.ranksFlags) \(ranks)"
        case .oddMicroBatches: "-m/--micro-batches \(microBatches)"
        case .tooFewMicroBatches, .microBatchesNotInGroups: "\(Self.ranksFlags) \(ranks), -m/--micro-batches \(microBatches)"
        case .invalidStagesPerRank: "--stages-per-rank \(stagesPerRank.map(String.init) ?? "")"
        case .tooLarge, .malformed, .invalidCosts: "\(Self.ranksFlags) \(ranks), -m/--micro-batches \(microBatches)" + (stagesPerRank.map { ", --stages-per-rank \($0)" } ?? "")
        }
    }

    /// Generates the schedule, lowers it and validates both, so nothing invalid is ever printed.
    func validatedSchedule() throws -> Schedule {
        try validatedLowering().schedule
    }

    /// `validatedSchedule()` with its lowering, for output that shows it (lowering searches the
    /// channel depth, so it is done once).
    func validatedLowering() throws -> LoweredSchedule {
        let lowered = Schedule(try configuration()).lowered()
        try lowered.validate()
        return lowered
    }
}

/// Writes `text` to the file `flag` names, or to standard output when `path` is nil.
func emit(_ text: String, to path: String?, flag: String = "--output") throws {
    try Files.write(text, to: path, flag: flag)
}

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Generate, validate and print a pipeline schedule.",
        discussion: """
        The schedule is lowered to communication and validated (dependencies, matching messages, \
        deadlock freedom) before it is printed. See docs/schedules.md for the formats.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, csv, svg, lowered
    }

    @OptionGroup var selection: ScheduleSelection

    @Option(name: .customLong("format"), help: "Output format: text, json, csv, svg or lowered (the instruction lists with communication). The svg is timed with F=B=W=1, BW=2 and a fully overlapped FB=2 (default: text).")
    var formatGiven: Format?

    var format: Format { formatGiven ?? .text }

    @Option(help: "Write to this file instead of standard output (default: standard output).")
    var output: String?

    @Option(help: ArgumentHelp(
        "Validate this schedule file instead of generating one: JSON, or CSV read with --kind/--ranks/--micro-batches (default: none).",
        valueName: "file"))
    var check: String?

    @Option(name: .customLong("compare-trace"), help: ArgumentHelp(
        "Check that a `dualpipe train --trace` file ran this schedule: every rank's compute actions, in time order, equal its program (default: none).",
        valueName: "file"))
    var compareTrace: String?

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        // --check and --compare-trace print a verdict, not a schedule: the output flags would mean nothing.
        let verdict = check != nil ? "--check" : compareTrace != nil ? "--compare-trace" : nil
        if check != nil && compareTrace != nil {
            throw ValidationError("--check and --compare-trace are two separate checks: give one at a time")
        }
        if let verdict {
            for (flag, given) in [("--format", formatGiven != nil), ("--output", output != nil)] where given {
                throw ValidationError("\(flag) applies to a generated schedule, not to \(verdict) (which prints a verdict)")
            }
        }
        if let check { try Files.checkReadable(check, flag: "--check") }
        if let compareTrace { try Files.checkReadable(compareTrace, flag: "--compare-trace") }
        if let output { try Files.checkWritable(output, flag: "--output") }
        _ = try selection.configuration()
    }

    func run() throws {
        if let check {
            try checkFile(check)
            return
        }
        if let compareTrace {
            try compare(trace: compareTrace, with: try selection.validatedSchedule())
            return
        }
        let lowered = try selection.validatedLowering()
        let schedule = lowered.schedule
        let text: String = switch format {
        case .text: schedule.text()
        case .json: schedule.json()
        case .csv: schedule.csv()
        case .svg: try schedule.simulate(Costs(forwardBackward: 2)).svg()
        case .lowered: lowered.text()
        }
        try emit(text, to: output)
    }

    /// Reads a schedule someone wrote or edited, and validates it with its communication.
    private func checkFile(_ path: String) throws {
        let contents = try Files.readText(path, flag: "--check")
        let schedule: Schedule
        do {
            schedule = path.hasSuffix(".json")
                ? try Schedule(json: contents)
                : Schedule(configuration: try selection.configuration(), program: try Schedule.program(csv: contents))
            // The compute program first: lowering indexes by rank and stage, so it needs a sound one.
            try schedule.validate()
            try schedule.lowered().validate()
        } catch let error as ScheduleError {
            throw ValidationError("--check '\(path)': \(error)")
        } catch let error as ScheduleValidationError {
            throw ValidationError("--check '\(path)': \(error)")
        }
        print("\(path): valid \(schedule.kind.title) schedule, \(schedule.ranks) ranks, \(schedule.stages) stages, \(schedule.microBatches) micro-batches")
    }

    /// The measured order of every rank in a trace against the generated program of its pipeline rank.
    private func compare(trace path: String, with schedule: Schedule) throws {
        let orders = try TraceFile(path, flag: "--compare-trace").decode(ChromeTrace.computeOrder(of:))
        guard !orders.isEmpty else { throw ValidationError("\(path): no compute actions in the trace") }
        for order in orders {
            guard (0..<schedule.ranks).contains(order.pipelineRank) else {
                throw ValidationError("\(path): rank \(order.rank) is pipeline rank \(order.pipelineRank), outside the schedule's \(schedule.ranks) ranks")
            }
            let expected = schedule.program[order.pipelineRank].map(\.description)
            if order.actions != expected {
                let k = zip(order.actions, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(order.actions.count, expected.count)
                let got = k < order.actions.count ? order.actions[k] : "(end)", want = k < expected.count ? expected[k] : "(end)"
                throw ValidationError("\(path): rank \(order.rank) (pipeline rank \(order.pipelineRank)) ran \(got) at action \(k), the schedule has \(want) (\(order.actions.count) actions traced, \(expected.count) scheduled)")
            }
        }
        let pipelineRanks = Set(orders.map(\.pipelineRank)).count
        print("\(path): \(orders.count) ranks ran the \(schedule.kind.title) schedule (\(pipelineRanks) pipeline ranks, \(schedule.microBatches) micro-batches) in program order")
    }
}
