import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct BenchEPLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eplb", abstract: "EPLB placement speed.")
    func run() throws { throw ValidationError("'eplb' is not built yet") }
}
