import MPI

/// Open MPI carries point-to-point messages through one PML, chosen as MPI starts: ob1 over its
/// byte transports (TCP between nodes, shared memory inside one, where the TCP eager limit and the
/// shared-memory single copy decide how a large message moves), ucx on InfiniBand and RoCE
/// clusters (UCX picks its own transports and protocols, and neither setting applies), or cm over
/// an MTL (libfabric, PSM2). The components not chosen are closed and their control variables go
/// with them, so the one whose variables remain once MPI runs is the one in use.
enum PointToPointLayer {
    static let known = ["ob1", "ucx", "cm"]

    /// The PML in use; nil where none of `known` is (an MPI other than Open MPI, say). Call after
    /// MPI starts.
    static func selected() -> Result<String?, Error> {
        Result { try known.first { try ControlVariable.integer("pml_\($0)_priority") != nil } }
    }

    /// Whether messages go through ob1's transports, the ones a run's first line describes
    /// (assumed where the PML cannot be told).
    static var usesByteTransports: Bool {
        switch selected() {
        case .success(let name?): name == "ob1"
        default: true
        }
    }

    /// For `dualpipe env`'s column: the PML's name, "?" where it cannot be told.
    static var column: String {
        switch selected() {
        case .success(let name?): name
        default: "?"
        }
    }
}
