import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct EPLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eplb", abstract: "Place experts with EPLB.")
    func run() throws { throw ValidationError("'eplb' is not built yet") }
}
