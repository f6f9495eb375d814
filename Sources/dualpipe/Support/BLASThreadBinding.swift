#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPI
import Tensor

/// The OpenBLAS threads a rank asked for against those it runs. OpenBLAS starts no more threads
/// than the CPUs its process may run on, and a launcher binds ranks: mpirun each to one core by
/// default when it starts two ranks or fewer (`--bind-to core` at any count), srun a task to its
/// --cpus-per-task. So OPENBLAS_NUM_THREADS=4 under `mpirun -np 2` runs one thread a rank, and
/// only the thread count in the run's first line shows it. Each rank reads its own binding (the
/// nodes and launchers of a job may differ); rank 0 names the ranks that run fewer threads than
/// asked, and why.
enum BLASThreadBinding {
    static let variable = "OPENBLAS_NUM_THREADS"

    /// How many CPUs this process may run on (its affinity mask), nil where that is unknown.
    /// `sched_getaffinity` is a GNU extension the Glibc module does not export, so it is looked
    /// up by name, with a mask of 1024 CPUs (glibc's `cpu_set_t`).
    static func allowedCPUs() -> Int? {
        typealias GetAffinity = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32
        guard let getAffinity = GlibcExtension.function("sched_getaffinity", as: GetAffinity.self) else { return nil }
        var mask = [UInt64](repeating: 0, count: 16)
        let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        guard status == 0 else { return nil }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return count > 0 ? count : nil
    }

    /// A rank's OPENBLAS_NUM_THREADS (nil: unset or not a count), the threads OpenBLAS runs, the
    /// CPUs the rank may run on and those its node has online (nil: unknown).
    struct Rank: Equatable {
        var requested: Int?
        var threads: Int
        var cpus: Int?
        var online: Int?

        /// Whether a launcher bound the rank to fewer CPUs than it asked threads for, where the
        /// node has more.
        var boundBelowRequest: Bool {
            guard let requested, let cpus else { return false }
            return cpus < requested && cpus < (online ?? Int.max)
        }
    }

    /// This rank's view.
    static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> Rank {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return Rank(requested: environment[variable].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil },
                    threads: BLAS.threadCount, cpus: allowedCPUs(), online: online > 0 ? online : nil)
    }

    /// Every rank's view, indexed by world rank. Collective over `world`.
    static func gather(_ world: Communicator) throws -> [Rank] {
        let mine = current()
        let all = try world.allgather([mine.requested ?? 0, mine.threads, mine.cpus ?? 0, mine.online ?? 0])
        let known = { (value: Int) in value > 0 ? value : nil }
        return stride(from: 0, to: all.count, by: 4).map {
            Rank(requested: known(all[$0]), threads: all[$0 + 1], cpus: known(all[$0 + 2]), online: known(all[$0 + 3]))
        }
    }

    /// The warning for `ranks` (indexed by world rank) where some run fewer OpenBLAS threads than
    /// OPENBLAS_NUM_THREADS asks; nil where none does.
    static func warning(_ ranks: [Rank]) -> String? {
        var groups: [(rank: Rank, members: [Int])] = []
        for (index, r) in ranks.enumerated() {
            guard let requested = r.requested, r.threads < requested else { continue }
            if let k = groups.firstIndex(where: { $0.rank == r }) { groups[k].members.append(index) } else { groups.append((r, [index])) }
        }
        guard !groups.isEmpty else { return nil }
        let bound = groups.filter { $0.rank.boundBelowRequest }
        let described = groups.map { g in
            let who = g.members.count == 1 ? "rank \(spans(g.members)) runs" : "ranks \(spans(g.members)) each run"
            let cpus = g.rank.cpus ?? 0
            let why = g.rank.boundBelowRequest ? ", bound to \(cpus) CPU\(cpus == 1 ? "" : "s")"
                : cpus > 0 && cpus < g.rank.requested! ? " on its node's \(cpus) CPU\(cpus == 1 ? "" : "s")" : ""
            return "\(who) \(g.rank.threads) OpenBLAS thread\(g.rank.threads == 1 ? "" : "s") where \(variable)=\(g.rank.requested!)\(why)"
        }
        var text = "warning: " + described.joined(separator: "; ")
        if let most = bound.map({ $0.rank.requested! }).max() {
            text += " (OpenBLAS runs no more threads than the CPUs the launcher binds a rank to): give each rank \(most) cores"
                + " (mpirun --map-by slot:PE=\(most), srun --cpus-per-task=\(most)) or launch with --bind-to none"
        }
        return text
    }

    /// Ascending ranks as runs: [0, 1, 2, 5] -> "0-2, 5".
    static func spans(_ ranks: [Int]) -> String {
        var parts: [String] = [], k = 0
        while k < ranks.count {
            var end = k
            while end + 1 < ranks.count && ranks[end + 1] == ranks[end] + 1 { end += 1 }
            parts.append(end == k ? "\(ranks[k])" : "\(ranks[k])-\(ranks[end])")
            k = end + 1
        }
        return parts.joined(separator: ", ")
    }
}
