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
