import MPI
#if canImport(Glibc)
import Glibc
#endif

/// `--inject-failure RANK@STEP[:kill|:stall]`: world rank `rank` fails on purpose in step `step`,
/// so that the tests (and a user trying the cluster) see the whole job end, naming the rank.
public struct FailureDrill: Equatable, Sendable {
    public enum Mode: String, Equatable, Sendable {
        /// Throws halfway through the step's schedule.
        case fail
        /// SIGKILLs itself halfway through the step's schedule: mpirun sees a rank die.
        case kill
        /// Stops, alive, after the step's schedule: the others wait in the update until the
        /// `--comm-timeout` watchdog ends the job.
        case stall
    }

    public var step: Int
    public var rank: Int
    public var mode: Mode

    public init(step: Int, rank: Int, mode: Mode) {
        self.step = step; self.rank = rank; self.mode = mode
    }
}

extension FailureDrill {
    /// The stall: says so, then sleeps until the job is ended.
    static func stall(rank: Int, step: Int) -> Never {
        printError("rank \(rank): failure drill: stalling after the schedule of step \(step), before its update")
        while true { sleep(3600) }
    }
}
