import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "Print a pipeline schedule.")
    func run() throws { throw ValidationError("'schedule' is not built yet") }
}
