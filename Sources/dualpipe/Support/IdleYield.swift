#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Open MPI spins on its core while a rank waits for a message, unless it knows that the node
/// holds more ranks than cores; then it yields the core (`mpi_yield_when_idle`). mpirun knows
/// when it had to oversubscribe its slots, but not when the slots themselves outnumber the cores
/// (a hostfile's, or a Slurm allocation's under `LAUNCHER=mpirun`), and a rank that srun started
/// knows nothing. Ranks spinning through each other's time slices made a small job 3 to 6 times
/// slower on a 2-core machine whose local Slurm declares 8 CPUs (40 steps on 4 ranks: 10.4 s
/// against 1.6 s under srun, 9.3 s against 3.2 s under mpirun). So a rank counts its node's ranks
/// (mpirun's OMPI_COMM_WORLD_LOCAL_SIZE, else Slurm's tasks of this node) against the node's
/// online CPUs and, when they outnumber them, asks Open MPI to yield before MPI starts, unless
/// the user set the parameter.
enum IdleYield {
    static let variable = "OMPI_MCA_mpi_yield_when_idle"

    /// This node's ranks and CPUs when the parameter was set here (nil: not set here).
    nonisolated(unsafe) private(set) static var applied: (ranks: Int, cpus: Int)?

    /// Call before MPI starts: Open MPI reads its parameters when it initialises.
    static func configure(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment[variable] == nil, let ranks = ranksOnThisNode(environment) else { return }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        guard cpus > 0, ranks > cpus else { return }
        setenv(variable, "1", 1)
        applied = (ranks, cpus)
    }

    /// How many ranks the launcher started on this node, as it says in the environment.
    static func ranksOnThisNode(_ environment: [String: String]) -> Int? {
        if let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }) { return local }
        guard let perNode = environment["SLURM_STEP_TASKS_PER_NODE"], let node = environment["SLURM_NODEID"].flatMap({ Int($0) }) else { return nil }
        return tasksOnNode(node, of: perNode)
    }

    /// The task count of node `node` in Slurm's compressed list of tasks per node, where "2(x3),1"
    /// means 2 tasks on each of the first three nodes and 1 on the fourth; nil if it is not there.
    static func tasksOnNode(_ node: Int, of list: String) -> Int? {
        var first = 0
        for entry in list.split(separator: ",") {
            let parts = entry.split(separator: "(", maxSplits: 1)
            guard let tasks = Int(parts[0]) else { return nil }
            var repeats = 1
            if parts.count == 2 {
                guard parts[1].hasPrefix("x"), parts[1].hasSuffix(")"), let count = Int(parts[1].dropFirst().dropLast()) else { return nil }
                repeats = count
            }
            if node < first + repeats { return node >= first ? tasks : nil }
            first += repeats
        }
        return nil
    }

    /// For a run's first line, after the MPI progress mode: what was set, if anything.
    static var note: String {
        applied.map { " (idle ranks yield: \($0.ranks) ranks on this node's \($0.cpus) CPUs)" } ?? ""
    }
}
