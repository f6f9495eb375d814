import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Model F/B/W timings.")
    func run() throws { throw ValidationError("'model' is not built yet") }
}
