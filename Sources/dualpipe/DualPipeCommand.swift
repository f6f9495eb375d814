import ArgumentParser

/// The `dualpipe` program: one subcommand per job. Each subcommand lives in its own file.
@main
struct DualPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dualpipe",
        abstract: "Train Mixture-of-Experts transformers over MPI with DeepSeek's DualPipe schedule.",
        subcommands: [
            EnvCommand.self,
            TrainCommand.self,
            ScheduleCommand.self,
            SimulateCommand.self,
            EPLBCommand.self,
            BenchCommand.self,
        ]
    )
}
