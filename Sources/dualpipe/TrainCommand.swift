import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train the model.")
    func run() throws { throw ValidationError("'train' is not built yet") }
}
