import CMPI

#if canImport(Glibc)
import Glibc
#endif

/// The MPI library for the life of the process: initialised once with a requested thread level,
/// finalised once. Pass it (or its `world`) to whatever needs MPI; nothing here is global.
public final class Environment {
    /// The thread level MPI actually provides (it may be below the one requested).
    public let providedThreadLevel: ThreadLevel
    /// MPI_COMM_WORLD, set to return errors instead of aborting inside MPI.
    public let world: Communicator
    private var finalized = false
    /// Progress threads started on this environment: `finalize` stops any still running, since
    /// no thread may call MPI once it has ended.
    var progressThreads: [ProgressThread] = []

    /// MPI_Init_thread. Fails if MPI was already initialised in this process.
    public init(requestedThreadLevel: ThreadLevel = .funneled) throws {
        var already: Int32 = 0
        try check(MPI_Initialized(&already), "MPI_Initialized")
        guard already == 0 else {
            throw MPIError(code: -1, message: "MPI is already initialised in this process; create one Environment",
                           call: "MPI_Init_thread", file: #fileID, line: #line)
        }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, requestedThreadLevel.mpiValue, &provided), "MPI_Init_thread")
        providedThreadLevel = ThreadLevel(mpiValue: provided) ?? .single
        // From here on MPI reports errors as return codes, which `check` turns into Swift errors.
        try check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try check(MPI_Comm_set_errhandler(cmpi_comm_self(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        world = try Communicator(predefined: cmpi_comm_world())
    }

    /// MPI_Finalize, at most once; later calls do nothing. Communicators must not be used afterwards.
    /// Stops (and waits for) every progress thread first.
    public func finalize() throws {
        guard !finalized else { return }
        finalized = true
        for thread in progressThreads { thread.stop() }
        progressThreads = []
        try check(MPI_Finalize(), "MPI_Finalize")
    }

    /// Ends every rank of the job at once (MPI_Abort on the world). Never returns.
    public func abort(exitCode: Int32 = 1) -> Never {
        Environment.abortJob(exitCode: exitCode)
    }

    /// The same from code that holds no Environment (a layer deep in a computation that cannot
    /// throw). MPI must be initialised.
    public static func abortJob(exitCode: Int32 = 1) -> Never {
        _ = MPI_Abort(cmpi_comm_world(), exitCode)
        exit(exitCode)
    }

    /// This node's name (MPI_Get_processor_name).
    public var processorName: String {
        get throws {
            try mpiString(capacity: cmpi_max_processor_name(), "MPI_Get_processor_name") { MPI_Get_processor_name($0, $1) }
        }
    }

    /// The MPI library's own description, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...".
    public var libraryVersion: String {
        get throws { try Environment.libraryVersion() }
    }

    /// The same without an environment: MPI_Get_library_version is one of the few calls the MPI
    /// standard allows before MPI_Init, so a program can choose the library's parameters by it.
    public static func libraryVersion() throws -> String {
        try mpiString(capacity: cmpi_max_library_version_string(), "MPI_Get_library_version") { MPI_Get_library_version($0, $1) }
    }

    /// Runs `body` with a fresh environment. An error that escapes `body` is printed with this rank's
    /// number and ends the whole job with MPI_Abort, so no peer is left waiting on this rank.
    public static func run(
        requestedThreadLevel: ThreadLevel = .funneled, _ body: (Environment) throws -> Void
    ) {
        let environment: Environment
        do {
            environment = try Environment(requestedThreadLevel: requestedThreadLevel)
        } catch {
            printError("error: could not start MPI: \(error)")
            exit(1)
        }
        environment.runOrAbort(body)
    }

    /// Runs `body`, then finalizes. An error that escapes is printed with this rank's number and
    /// ends the whole job with MPI_Abort, so no peer is left waiting on this rank.
    public func runOrAbort(_ body: (Environment) throws -> Void) {
        do {
            try body(self)
            try finalize()
        } catch {
            printError("rank \(world.rank): error: \(error)")
            abort(exitCode: 1)
        }
    }
}

/// Writes a line to standard error with one unbuffered write(2), so it is out before an abort and
/// lines from different ranks do not interleave mid-line.
public func printError(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

extension Environment {
    /// Seconds on MPI's wall clock (MPI_Wtime): the clock MPI benchmarks are timed with.
    public static func wallTime() -> Double { MPI_Wtime() }
}

/// A string that an MPI call writes into a caller's buffer of `capacity` characters, with its length.
private func mpiString(
    capacity: Int32, _ call: String, _ fill: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
) throws -> String {
    var length: Int32 = 0
    var text = [CChar](repeating: 0, count: Int(capacity) + 1)
    try check(fill(&text, &length), call)
    return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
