import ArgumentParser
import Foundation
import MPI

/// The `dualpipe` program: one subcommand per job. Each subcommand lives in its own file.
@main
struct DualPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dualpipe",
        abstract: "Train Mixture-of-Experts transformers over MPI with DeepSeek's DualPipe schedule.",
        version: "dualpipe \(Build.revision)",
        subcommands: [
            EnvCommand.self,
            TrainCommand.self,
            ScheduleCommand.self,
            SimulateCommand.self,
            EPLBCommand.self,
            CheckpointCommand.self,
            BenchCommand.self,
        ]
    )

    /// ArgumentParser's main, with four changes (docs/inputs.md): a negative number after an
    /// option is its value (`-n -3`); a misspelt flag is named before a refusal of another
    /// value (`UnknownArgumentsFirst`); a parse error or help screen, the same on every rank of a
    /// job, is printed by rank 0 only and every rank exits with its code; an error thrown while a
    /// command runs names that command (`dualpipe schedule --help`), not the root's usage. Before
    /// all of it, standard output is set to go out line by line (`StandardOutput`).
    static func main() {
        StandardOutput.writeLineByLine()
        let arguments = NegativeNumbers.joined(Array(CommandLine.arguments.dropFirst()))
        var command: ParsableCommand
        do {
            command = try UnknownArgumentsFirst.parse(arguments)
        } catch {
            let code = exitCode(for: error)
            let text = fullMessage(for: error)
            if LaunchRank.speaks && !text.isEmpty {
                // One write, so that mpirun's own lines cannot split the message.
                if code == .success { print(text) } else { printError(text) }
            } else if code != .success && !LaunchRank.speaks {
                // mpirun ends the job at the first rank that exits non-zero: the silent ranks give
                // rank 0 time to say why first, and say it themselves if rank 0 did not refuse.
                LaunchRank.refuseQuietly(text, code: code.rawValue)
            }
            Foundation.exit(code.rawValue)
        }
        do {
            try command.run()
        } catch {
            CommandFailure.exit(error, running: type(of: command))
        }
    }
}
