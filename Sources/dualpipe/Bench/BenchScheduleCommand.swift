import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct BenchScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "Schedule generation speed.")
    func run() throws { throw ValidationError("'schedule' is not built yet") }
}
