import MPI

/// Open MPI carries point-to-point messages through one PML, chosen as MPI starts: ob1 over its
/// byte transports (TCP between nodes, shared memory inside one, where the TCP eager limit and the
/// shared-memory single copy decide how a large message moves), ucx on InfiniBand and RoCE
/// clusters (UCX picks its own transports and protocols, and neither setting applies), or cm over
/// an MTL (libfabric, PSM2). The components not chosen are closed and their control variables go
/// with them, so the one whose variables remain once MPI runs is the one in use.
struct PointToPointLayer {
    static let known = ["ob1", "ucx", "cm"]

    /// The PML's name; nil where it cannot be told (none of `known` in use: an MPI other than
    /// Open MPI, say, or the tools interface failed).
    let name: String?

    /// The PML in use, read once. Call after MPI starts.
    static func current() -> PointToPointLayer {
        PointToPointLayer(name: try? known.first { try ControlVariable.integer("pml_\($0)_priority") != nil })
    }

    /// Whether messages go through ob1's transports, the ones the TCP eager limit and the
    /// shared-memory single copy describe (assumed where the PML cannot be told).
    var usesByteTransports: Bool { name == nil || name == "ob1" }

    /// For `dualpipe env`'s column: the name, "?" where it cannot be told.
    var column: String { name ?? "?" }
}
