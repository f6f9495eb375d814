import ArgumentParser
import Schedule

/// Times the Schedule pipeline (generate, lower, validate, simulate) on large configurations.
struct BenchScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Time schedule generation, lowering, validation and simulation; print a table (milliseconds).",
        discussion: "Build with -c release for meaningful numbers. Each cell is the best of --repeat runs."
    )

    @Option(help: "Runs per configuration; the best is reported.")
    var `repeat`: Int = 5

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be >= 1, got \(`repeat`)") }
    }

    static let cases: [(ScheduleKind, Int, Int)] = [
        (.dualpipe, 8, 20), (.dualpipe, 64, 512), (.dualpipev, 32, 512), (.dualpipev, 64, 512),
        (.oneFOneB, 64, 512), (.zb1p, 64, 512), (.gpipe, 64, 512),
    ]

    func run() throws {
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double { d.inSeconds * 1e3 }
        var rows = [["kind", "N", "M", "actions", "instructions", "generate", "lower", "validate", "simulate", "total"]]
        for (kind, n, m) in Self.cases {
            let configuration = try ScheduleConfiguration(kind: kind, ranks: n, microBatches: m)
            var best = [Double](repeating: .infinity, count: 4)
            var actions = 0, instructions = 0
            for _ in 0..<`repeat` {
                var schedule: Schedule?
                var lowered: LoweredSchedule?
                let times = [
                    clock.measure { schedule = Schedule(configuration) },
                    clock.measure { lowered = schedule!.lowered() },
                    try clock.measure { try lowered!.validate() },
                    try clock.measure { _ = try schedule!.simulate(Costs(forwardBackward: 2.5, latency: 0.1)) },
                ].map(ms)
                best = zip(best, times).map { min($0, $1) }
                actions = schedule!.program.joined().count
                instructions = lowered!.programs.joined().count
            }
            rows.append([kind.title, String(n), String(m), String(actions), String(instructions)]
                        + (best + [best.reduce(0, +)]).map { decimal($0, 2) })
        }
        print("Schedule pipeline, best of \(`repeat`) runs, milliseconds")
        print(renderTable(rows, textColumns: 3), terminator: "")
    }
}
