import ArgumentParser

/// What the user reads when `command` refuses `arguments` before running (nil: accepted): the
/// message of its parse and validation, as the command line prints it after "Error: ".
func refusalMessage<Command: ParsableCommand>(of command: Command.Type, _ arguments: [String]) -> String? {
    do {
        _ = try command.parse(arguments)
        return nil
    } catch {
        return command.message(for: error)
    }
}
