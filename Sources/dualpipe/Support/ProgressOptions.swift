import ArgumentParser
import MPI

/// How messages in flight make progress while a rank computes (`--mpi-progress`), shared by
/// `train` and `bench schedules`. docs/performance.md has the measurements behind the default.
struct ProgressOptions: ParsableArguments {
    enum Mode: String, CaseIterable, ExpressibleByArgument {
        /// MPI_Test on every message and exchange in flight between compute phases.
        case test
        /// A thread per rank that calls MPI_Iprobe every --progress-interval (MPI_THREAD_MULTIPLE).
        case thread
        /// Neither: Open MPI moves messages only inside the rank's own MPI calls.
        case library
    }

    @Option(name: .customLong("mpi-progress"), help: ArgumentHelp("How messages progress during compute: test (MPI_Test between compute phases), thread (a progress thread under MPI_THREAD_MULTIPLE), library (Open MPI alone).", valueName: "test|thread|library"))
    var mode = Mode.test
    @Option(name: .customLong("progress-interval"), help: ArgumentHelp("With --mpi-progress thread: seconds the thread sleeps between polls.", valueName: "SECONDS"))
    var interval = 0.0001

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard interval > 0 && interval <= 1 else { throw ValidationError("--progress-interval must be in (0, 1] seconds, got \(interval)") }
    }

    /// Whether the executor calls MPI_Test between compute phases (the `test` mode's way).
    var pollsBetweenPhases: Bool { mode == .test }

    /// The thread level MPI must provide for this mode.
    var threadLevel: ThreadLevel { mode == .thread ? .multiple : .funneled }

    /// Starts the progress thread when the mode asks for one; the caller stops it before MPI ends.
    func start(_ environment: Environment) throws -> ProgressThread? {
        guard mode == .thread else { return nil }
        return try ProgressThread(environment: environment, communicator: environment.world, interval: interval)
    }
}
