import MPI

/// Ranks on one node send through Open MPI's shared-memory transport (vader). A large message
/// there goes in a single copy, the receiver reading the sender's memory (CMA), where the kernel
/// lets one process read another's; where it does not (a container without ptrace rights, or
/// `btl_vader_single_copy_mechanism=none` set for one), the message moves in fragments through
/// shared buffers, each only when the sender calls into MPI, so a rank busy in a product holds
/// back what its neighbour waits for. On a 16-core Xeon, `bench schedules` at PP 2 measured
/// steps up to 12% longer than the simulator predicts without the single copy, and within 2%
/// with it (docs/performance.md). The first line of a run says which one it has, and where the
/// user turned it off, the eager limit that `SharedMemoryEagerLimit` raised to avoid that.
///
/// Open MPI 5 (Debian 13) renamed the transport sm and moved the single copy into a framework of
/// its own, smsc, with no parameter that names the mechanism in use. There the transport offers
/// get and put, the rendezvous a single copy makes, only where an smsc component was selected
/// (`btl_sm_flags` read back at run time: 15 with cma, 9 with `OMPI_MCA_smsc=^cma`), and the
/// components not opened register no parameters: those two say which.
enum SharedMemoryCopy {
    /// Open MPI 4's vader: the mechanism by name.
    static let parameter = "btl_vader_single_copy_mechanism"
    /// Open MPI 5's sm: its flags, and the smsc components that can give it a single copy.
    static let openMPI5Flags = "btl_sm_flags", openMPI5Components = ["cma", "xpmem", "knem"]
    /// MCA_BTL_FLAGS_GET in Open MPI's btl.h.
    static let getFlag = 0x4

    /// The mechanism Open MPI runs with ("cma", "none", ...), read back from it once; nil where
    /// the shared-memory transport is not loaded (every rank on a node of its own; Open MPI 5's
    /// sm registers its flags all the same, so there it names the mechanism a neighbour would
    /// get). Call after MPI starts.
    static func mechanism() -> Result<String?, Error> {
        Result {
            if let name = try ControlVariable.enumerated(parameter) { return name }
            guard let flags = try ControlVariable.integer(openMPI5Flags) else { return nil }
            let opened = try openMPI5Components.filter { try ControlVariable.integer("smsc_\($0)_priority") != nil }
            return openMPI5Mechanism(flags: flags, opened: opened)
        }
    }

    /// Open MPI 5's mechanism from sm's flags and the smsc components opened: "none" where the
    /// transport cannot get, the component where one was opened, "smsc" where it gets through
    /// one this cannot tell.
    static func openMPI5Mechanism(flags: Int, opened: [String]) -> String {
        guard flags & getFlag != 0 else { return "none" }
        return opened.count == 1 ? opened[0] : "smsc"
    }

    /// "shared memory single copy: cma", for a run's first line; nil where the transport is not
    /// loaded.
    static var description: String? {
        switch mechanism() {
        case .failure(let error): return "shared memory single copy unknown (\(error))"
        case .success(nil): return nil
        case .success(let name?):
            let note = SharedMemoryEagerLimit.withoutKernelCopy.contains(name) ? " (\(SharedMemoryEagerLimit.description))" : ""
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
