import ArgumentParser

/// ArgumentParser runs each command's `validate()` before it looks for arguments that no option
/// took, so `train --schedul zbv --steps 0` was refused for `--steps 0` alone, and a misspelt flag
/// whose value would have changed what was judged (`schedule --knd zbv -m 2` judged the
/// default DualPipe) hid behind a refusal about something the user never asked for. When a parse
/// fails, it is parsed once more with every `validate()` passed over: an argument no command
/// takes is reported first, and otherwise the first error stands.
enum UnknownArgumentsFirst {
    /// False only during that second parse; each `validate()` starts with
    /// `guard UnknownArgumentsFirst.validates else { return }`. Task-local, so that a parse on
    /// another thread (the command tests run in parallel) still validates.
    @TaskLocal static var validates = true

    /// `DualPipeCommand.parseAsRoot(arguments)`, with the error above when it fails.
    static func parse(_ arguments: [String]) throws -> ParsableCommand {
        do {
            return try DualPipeCommand.parseAsRoot(arguments)
        } catch {
            _ = try $validates.withValue(false) { try DualPipeCommand.parseAsRoot(arguments) }
            throw error
        }
    }
}
