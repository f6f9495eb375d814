import Foundation
import MPI
#if canImport(Glibc)
import Glibc
#endif

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

    /// How a rank that does not speak ends on a bad input: quietly, after a pause in which rank 0
    /// says why and mpirun (or srun --kill-on-bad-exit) ends the job, this rank with it. A rank
    /// still running after the pause met a verdict rank 0 did not (a file on this node's disk
    /// only, a node with less memory): mpirun would end the job naming the rank but not the
    /// reason, so the rank says it, with its node, and exits with `code`.
    static func refuseQuietly(_ text: String, code: Int32) -> Never {
        sleep(quietSeconds)
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        printError("rank \(current ?? 0) on \(host): " + text)
        Foundation.exit(code)
    }

    /// Long enough for rank 0 to start (ranks sharing a core start late), refuse and be noticed.
    static let quietSeconds: UInt32 = 10

    /// How long a rank that failed on its own stays after saying why, so that the other ranks that
    /// fail alike say it too before the launcher ends the job.
    static let sayingSeconds: UInt32 = 2
}
