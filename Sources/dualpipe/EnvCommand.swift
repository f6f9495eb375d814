import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "Print each rank's MPI and OpenBLAS environment.")
    func run() throws { throw ValidationError("'env' is not built yet") }
}
