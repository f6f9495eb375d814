import ArgumentParser

// PLACEHOLDER: replaced by the work on its issue; must not reach a landing.
struct BenchMPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mpi", abstract: "MPI latency, bandwidth and alltoallv.")
    func run() throws { throw ValidationError("'mpi' is not built yet") }
}
