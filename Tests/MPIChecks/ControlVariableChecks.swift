#if canImport(Glibc)
import Glibc
#endif
import MPI

/// MPI_T reads what Open MPI runs with: the TCP transport's eager limit (what `train` sets and its
/// first line reports), the same on every rank; nil for a name nothing registers and for a
/// variable that is not an integer (the `btl` list of transports). `expectedTCPEagerLimit` is what
/// `ompi_info` reports (scripts/test passes it, so a limit set in an MCA parameter file counts);
/// without it, OMPI_MCA_btl_tcp_eager_limit or Open MPI's default, 64 KiB.
func controlVariableCheck(expectedTCPEagerLimit: Int?) -> Check {
    Check(name: "MPI_T reads the TCP eager limit Open MPI runs with; nil for an unknown or a text variable") { world in
        let expected = expectedTCPEagerLimit ?? getenv("OMPI_MCA_btl_tcp_eager_limit").flatMap { Int(String(cString: $0)) } ?? 65536
        let limit = try ControlVariable.integer("btl_tcp_eager_limit")
        try expect(limit == expected, "btl_tcp_eager_limit read as \(limit.map(String.init) ?? "nil"), expected \(expected)")
        let limits = try world.allgather([limit ?? -1])
        try expect(Set(limits).count == 1, "ranks read different limits: \(limits)")
        let unknown = try ControlVariable.integer("dualpipe_no_such_variable")
        try expect(unknown == nil, "an unknown variable read as \(unknown!)")
        let text = try ControlVariable.integer("btl")
        try expect(text == nil, "the btl list read as the integer \(text!)")
    }
}

/// MPI_T names an enumerated variable's value: the shared-memory transport's single-copy mechanism
/// under Open MPI 4 (what a run's first line reports) is one of the names Open MPI gives it, the
/// one set in the environment where it is set, the same on every rank; Open MPI 5's transport, sm,
/// names none (dualpipe reads its flags there), and coll/tuned's allreduce algorithm, which both
/// have, is "ignore" (Open MPI's own choice) unless the environment sets it. Nil for an unknown name
/// and for an integer without names (the TCP eager limit). A lone rank may not load the
/// shared-memory transport.
let enumeratedControlVariableCheck = Check(name: "MPI_T names enumerated values: Open MPI 4's single copy, the allreduce algorithm; nil for an unknown or a plain integer variable") { world in
    let mechanism = try ControlVariable.enumerated("btl_vader_single_copy_mechanism")
    let openMPI5 = try mechanism == nil && ControlVariable.integer("btl_sm_flags") != nil
    if !openMPI5 && (world.size > 1 || mechanism != nil) {
        try expect(["cma", "emulated", "none", "knem", "xpmem"].contains(mechanism ?? ""), "btl_vader_single_copy_mechanism read as \(mechanism ?? "nil")")
    }
    if !openMPI5, let set = getenv("OMPI_MCA_btl_vader_single_copy_mechanism").map({ String(cString: $0) }) {
        try expect(mechanism == set, "btl_vader_single_copy_mechanism read as \(mechanism ?? "nil"), set to \(set) in the environment")
    }
    let named = try world.allgather([mechanism.map { $0.utf8.reduce(0) { $0 &* 31 &+ Int($1) } } ?? -1])
    try expect(Set(named).count == 1, "ranks read different mechanisms")
    let algorithm = try ControlVariable.enumerated("coll_tuned_allreduce_algorithm")
    let setAlgorithm = getenv("OMPI_MCA_coll_tuned_allreduce_algorithm").map { String(cString: $0) }
    try expect(setAlgorithm != nil || algorithm == "ignore", "coll_tuned_allreduce_algorithm read as \(algorithm ?? "nil"), expected ignore")
    let unknown = try ControlVariable.enumerated("dualpipe_no_such_variable")
    try expect(unknown == nil, "an unknown variable read as \(unknown!)")
    let plain = try ControlVariable.enumerated("btl_tcp_eager_limit")
    try expect(plain == nil, "the TCP eager limit, an integer without names, read as \(plain!)")
}
