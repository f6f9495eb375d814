import ArgumentParser

/// Benchmarks (not tests): the hardware and component numbers that performance work is judged against.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure MPI, BLAS, model, schedule, EPLB and expert-parallel speed and print tables.",
        subcommands: [
            BenchMPICommand.self,
            BenchBLASCommand.self,
            BenchModelCommand.self,
            BenchScheduleCommand.self,
            BenchEPLBCommand.self,
            BenchEPCommand.self,
            BenchSchedulesCommand.self,
        ]
    )
}
