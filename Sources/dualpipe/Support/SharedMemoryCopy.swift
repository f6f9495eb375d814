import MPI

/// Ranks on one node send through Open MPI's shared-memory transport (vader). A large message
/// there goes in a single copy, the receiver reading the sender's memory (CMA), where the kernel
/// lets one process read another's; where it does not (a container without ptrace rights, or
/// `btl_vader_single_copy_mechanism=none` set for one), the message moves in fragments through
/// shared buffers, each only when the sender calls into MPI, so a rank busy in a product holds
/// back what its neighbour waits for. On a 16-core Xeon, `bench schedules` at PP 2 measured
/// steps up to 12% longer than the simulator predicts without the single copy, and within 2%
/// with it (docs/performance.md). The first line of a run says which one it has.
enum SharedMemoryCopy {
    static let parameter = "btl_vader_single_copy_mechanism"

    /// The mechanism Open MPI runs with ("cma", "none", ...), read back from it once; nil where
    /// the shared-memory transport is not loaded (every rank on a node of its own). Call after
    /// MPI starts.
    static func mechanism() -> Result<String?, Error> {
        Result { try ControlVariable.enumerated(parameter) }
    }

    /// "shared memory single copy: cma", for a run's first line; nil where the transport is not
    /// loaded.
    static var description: String? {
        switch mechanism() {
        case .failure(let error): return "shared memory single copy unknown (\(error))"
        case .success(nil): return nil
        case .success(let name?):
            let note = name == "none" ? " (large messages between ranks of a node move only while their sender is in MPI)" : ""
            return "shared memory single copy: \(name)\(note)"
        }
    }

    /// For `dualpipe env`'s column: the mechanism's name, "-" where the transport is not loaded.
    static var column: String {
        switch mechanism() {
        case .failure: return "unknown"
        case .success(let name): return name ?? "-"
        }
    }
}
