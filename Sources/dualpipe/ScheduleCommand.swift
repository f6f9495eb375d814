import ArgumentParser
import Foundation
import Schedule

/// The selectors shared by `schedule` and `simulate`: which schedule, on how many ranks, with how
/// many micro-batches. The rules live in `ScheduleConfiguration`; this only reports them.
struct ScheduleSelection: ParsableArguments {
    @Option(name: .long, help: "Schedule kind: dualpipe, dualpipev, 1f1b, zb1p or gpipe.")
    var kind: String = "dualpipe"

    @Option(name: [.customShort("n"), .long], help: "Number of pipeline ranks N; with simulate --compare, the number of stages PP.")
    var ranks: Int = 8

    @Option(name: [.customShort("m"), .long], help: "Number of micro-batches M.")
    var microbatches: Int = 20

    func configuration() throws -> ScheduleConfiguration {
        do {
            return try ScheduleConfiguration(kindName: kind, ranks: ranks, microBatches: microbatches)
        } catch let error as ScheduleError {
            throw ValidationError(error.description)
        }
    }

    /// Generates the schedule, lowers it and validates both, so nothing invalid is ever printed.
    func validatedSchedule() throws -> Schedule {
        let schedule = Schedule(try configuration())
        try schedule.lowered().validate()
        return schedule
    }
}

/// Writes `text` to `path`, or to standard output when `path` is nil.
func emit(_ text: String, to path: String?) throws {
    guard let path else { print(text, terminator: ""); return }
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw ValidationError("cannot write '\(path)': \(error.localizedDescription)")
    }
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

    @Option(help: "Output format: text, json, csv, svg or lowered (the instruction lists with communication). The svg is timed with F=B=W=1, BW=2 and a fully overlapped FB=2.")
    var format: Format = .text

    @Option(help: "Write to this file instead of standard output (default: standard output).")
    var output: String?

    @Option(help: ArgumentHelp(
        "Validate this schedule file instead of generating one: JSON, or CSV read with --kind/--ranks/--microbatches (default: none).",
        valueName: "file"))
    var check: String?

    func validate() throws { _ = try selection.configuration() }

    func run() throws {
        if let check {
            try checkFile(check)
            return
        }
        let schedule = try selection.validatedSchedule()
        let text: String = switch format {
        case .text: schedule.text()
        case .json: schedule.json()
        case .csv: schedule.csv()
        case .svg: try schedule.simulate(Costs(forwardBackward: 2)).svg()
        case .lowered: schedule.lowered().text()
        }
        try emit(text, to: output)
    }

    /// Reads a schedule someone wrote or edited, and validates it with its communication.
    private func checkFile(_ path: String) throws {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read '\(path)': \(error.localizedDescription)")
        }
        let schedule: Schedule
        do {
            schedule = path.hasSuffix(".json")
                ? try Schedule(json: contents)
                : Schedule(configuration: try selection.configuration(), program: try Schedule.program(csv: contents))
            // The compute program first: lowering indexes by rank and stage, so it needs a sound one.
            try schedule.validate()
            try schedule.lowered().validate()
        } catch let error as ScheduleError {
            throw ValidationError("\(path): \(error)")
        }
        print("\(path): valid \(schedule.kind.title) schedule, \(schedule.ranks) ranks, \(schedule.stages) stages, \(schedule.microBatches) micro-batches")
    }
}
