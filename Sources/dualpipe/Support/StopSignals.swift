import MPI
import Pipeline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGUSR1 and SIGTERM as a request to stop at the end of the step, with a checkpoint: how a
/// batch system's time limit or preemption (Slurm sends SIGTERM, or `--signal=USR1@SECONDS`
/// ahead of it) and a user (mpirun forwards SIGUSR1 to every rank) end a run without losing the
/// steps since the last `--checkpoint-every`. The handler only records which signal came; the
/// ranks agree on stopping in a collective they already make every step, so they all stop after
/// the same step. A second signal changes nothing: under Slurm a rank can get the same SIGTERM
/// twice (from slurmstepd and again through srun).
///
/// A launcher also sends SIGTERM when it ends a job after a rank failed (srun's
/// --kill-on-bad-exit, then SIGKILL only KillWait seconds later). The other ranks then wait for
/// the failed one and never reach the end of their step, so a rank that has not agreed to stop
/// within a grace after the signal (10 s and three of its longest steps) ends as the signal would
/// have ended it without a handler.
enum StopSignals {
    /// The signals handled. Each sets bit `signal` of `received` (their numbers are below 32).
    static let handled: [(signal: Int32, name: String)] = [(SIGUSR1, "SIGUSR1"), (SIGTERM, "SIGTERM")]

    /// The exit status of a run that stopped on a signal (`EX_TEMPFAIL` of sysexits.h: not done,
    /// worth running again, here with --resume).
    static let exitStatus: Int32 = 75

    /// Which handled signals have arrived, bit `signal` for each. Atomics, so that the handler does nothing
    /// but one lock-free operation, which is safe in a signal handler.
    private static let received = Atomic<Int32>(0)
    /// Set once every rank has agreed to stop: from then on the rank writes its checkpoint, however long.
    private static let agreed = Atomic<Bool>(false)
    /// The longest step so far (with its evaluation, rebalance and checkpoint), in milliseconds.
    private static let longestStepMilliseconds = Atomic<Int>(0)

    /// Installs the handler for SIGUSR1 and SIGTERM, and the thread that keeps the grace.
    static func install() {
        // The statics' one-time initialisation must not happen inside the handler.
        _ = received.load(ordering: .relaxed)
        _ = agreed.load(ordering: .relaxed)
        _ = longestStepMilliseconds.load(ordering: .relaxed)
        for (signal, _) in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in StopSignals.received.bitwiseOr(1 << signal, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            // Restart the system calls the signal interrupts: MPI's and the file writes' alike.
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESTART)
            guard sigaction(signal, &action, nil) == 0 else { fatalError("sigaction(\(signal)) failed: errno \(errno)") }
        }
        var thread = pthread_t()
        guard pthread_create(&thread, nil, { _ in StopSignals.keepGrace() }, nil) == 0 else { fatalError("could not start the stop signals' thread") }
        pthread_detach(thread)
    }

    /// Whether a handled signal has arrived at this process.
    static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    /// The names of the signals that have arrived, in `handled`'s order.
    static var names: [String] {
        let bits = received.load(ordering: .relaxed)
        return handled.filter { bits & 1 << $0.signal != 0 }.map(\.name)
    }

    /// Every rank has agreed to stop after this step: no grace from now on.
    static func agree() { agreed.store(true, ordering: .relaxed) }

    /// A step took `seconds`, counting whatever followed it before the next (the grace is three of
    /// the longest).
    static func noteStep(seconds: Double) {
        longestStepMilliseconds.max(Int(seconds * 1000), ordering: .relaxed)
    }

    /// The longest step so far, as `noteStep` heard of it (to the millisecond).
    static var longestStepSeconds: Double { Double(longestStepMilliseconds.load(ordering: .relaxed)) / 1000 }

    /// The grace thread: a look four times a second, which only does something once a signal has
    /// arrived and the run has not agreed to stop.
    private static func keepGrace() -> Never {
        var since: Double?
        while true {
            usleep(250_000)
            let bits = received.load(ordering: .relaxed)
            guard bits != 0, !agreed.load(ordering: .relaxed) else { continue }
            let now = monotonicSeconds()
            let first = since ?? now
            since = first
            let grace = 10 + 3 * longestStepSeconds
            guard now - first > grace else { continue }
            let (signal, name) = handled.last { bits & 1 << $0.signal != 0 }!
            printError("rank \(LaunchRank.current ?? 0): \(name) came \(String(format: "%.1f", now - first)) s ago and the ranks have not agreed to stop "
                       + "(a rank may have failed, and the launcher be ending the job): ending this rank without a checkpoint")
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
        }
    }
}
