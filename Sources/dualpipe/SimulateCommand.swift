import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Simulate a pipeline schedule.")
    func run() throws { throw ValidationError("'simulate' is not built yet") }
}
