import Foundation

/// This process's rank as the launcher set it in the environment, before MPI starts: Open MPI's
/// mpirun sets OMPI_COMM_WORLD_RANK, MPICH and PMI launchers PMI_RANK, PMIx PMIX_RANK, Slurm's
/// srun SLURM_PROCID. nil when none is set (a plain run).
enum LaunchRank {
    static let variables = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"]

    static var current: Int? {
        let environment = ProcessInfo.processInfo.environment
        return variables.lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    }

    /// Whether this process speaks for the job: rank 0, or a plain run. A verdict every rank reaches
    /// from the same flags is printed by this one only.
    static var speaks: Bool { (current ?? 0) == 0 }
}
