import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct BenchBLASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "blas", abstract: "Single-core sgemm GFLOP/s.")
    func run() throws { throw ValidationError("'blas' is not built yet") }
}
