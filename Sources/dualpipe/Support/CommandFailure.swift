import ArgumentParser
import EPLB
import Foundation
import MPI
import Model
import Schedule

/// How dualpipe ends on an error (docs/inputs.md): one line starting with "Error:" that names the
/// value and the rule, and exit code 64 for a bad input (a flag, a file, a configuration) or 1 for
/// a failure while working. Under a launcher every rank exits alike; a bad input, the same verdict
/// on every rank, is printed by rank 0 only.
enum CommandFailure {
    /// Errors that describe the input rather than the run.
    static func isInputError(_ error: Error) -> Bool {
        error is ValidationError || error is ConfigurationError || error is ScheduleError || error is ScheduleValidationError
            || error is EPLBError
    }

    /// The message of an error, without type names or Foundation codes.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as ValidationError: return error.message
        case let error as CustomStringConvertible where !(error is NSError): return error.description
        default:
            let error = error as NSError
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code)))
            }
            return error.localizedDescription
        }
    }

    /// Ends the process for an error `command` threw while it ran.
    static func exit(_ error: Error, running command: ParsableCommand.Type) -> Never {
        switch error {
        case let code as ExitCode: Foundation.exit(code.rawValue)
        case is ValidationError: break
        case _ where error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            // Help screens and ArgumentParser's own errors (`dualpipe help env` runs a command too).
            let code = DualPipeCommand.exitCode(for: error)
            let text = DualPipeCommand.fullMessage(for: error)
            if LaunchRank.speaks && !text.isEmpty {
                if code == .success { print(text) } else { printError(text) }
            }
            Foundation.exit(code.rawValue)
        default: break
        }
        if isInputError(error) {
            let text = "Error: \(describe(error))\n  See '\(commandPath(command)) --help' for more information."
            guard LaunchRank.speaks else { LaunchRank.refuseQuietly(text, code: ExitCode.validationFailure.rawValue) }
            printError(text)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        printError((LaunchRank.current.map { "rank \($0): " } ?? "") + "Error: \(describe(error))")
        // Each rank's own verdict (its CPU, its node's files), reached by every rank that meets
        // it: the first to exit non-zero ends the job, and Open MPI 5's launcher kills the others
        // at once, before a rank that met the same failure a moment later has said so.
        if LaunchRank.current != nil { sleep(LaunchRank.sayingSeconds) }
        Foundation.exit(ExitCode.failure.rawValue)
    }

    /// "dualpipe bench eplb" for BenchEPLBCommand.
    static func commandPath(_ command: ParsableCommand.Type) -> String {
        func search(_ node: ParsableCommand.Type, _ path: [String]) -> [String]? {
            let path = path + [node.configuration.commandName ?? "\(node)"]
            if node == command { return path }
            return node.configuration.subcommands.lazy.compactMap { search($0, path) }.first
        }
        return (search(DualPipeCommand.self, []) ?? ["dualpipe"]).joined(separator: " ")
    }
}
