import MPI
#if canImport(Glibc)
import Glibc
#endif

/// `--comm-timeout` for the waits outside the schedule: the step's start barrier, the gradient
/// sums, the mirror pair's exchanges, the loss gather, the gradient norm, the load counts and the
/// step report. They are blocking collectives or waits on several requests, which cannot poll a
/// deadline as the schedule's messages and the expert all-to-alls do, so a thread watches the
/// clock instead: without it a rank that stalls there (alive, so mpirun sees nothing) hangs every
/// other rank. The thread only reads the clock and, once, calls `expire`.
public final class CollectiveWatchdog {
    private let watch: Watch
    private var thread = pthread_t()

    /// What the thread and the rank share, under `lock`.
    final class Watch {
        var lock = pthread_mutex_t()
        /// Signalled when the watchdog stops, so its thread need not sleep out its pause.
        var stopping = pthread_cond_t()
        var phase: String?
        var since = 0.0
        var running = true
        let timeout: Double
        let expire: (String) -> Void

        init(timeout: Double, expire: @escaping (String) -> Void) {
            self.timeout = timeout
            self.expire = expire
            pthread_mutex_init(&lock, nil)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(&stopping, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        /// Runs on the thread until `running` is false: a look at the clock every tenth of the
        /// timeout (at most a second), so a wait is ended within 1.1 timeouts.
        func loop() {
            let pause = Int(min(1.0, timeout / 10) * 1e9)
            pthread_mutex_lock(&lock)
            while running {
                if let phase, monotonicSeconds() - since > timeout {
                    let waited = monotonicSeconds() - since
                    pthread_mutex_unlock(&lock)
                    expire("waited \(String(format: "%.1f", waited)) s for \(phase) (--comm-timeout)")
                    return
                }
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let wake = Int(now.tv_nsec) + pause
                var deadline = timespec(tv_sec: now.tv_sec + wake / 1_000_000_000, tv_nsec: wake % 1_000_000_000)
                pthread_cond_timedwait(&stopping, &lock, &deadline)
            }
            pthread_mutex_unlock(&lock)
        }
    }

    /// `expire` gets what the rank waited for and how long; it runs on the watchdog's thread, at
    /// most once. `ending(rank:)` is the one that ends the job.
    public init(timeout: Double, expire: @escaping (String) -> Void) throws {
        precondition(timeout > 0 && timeout.isFinite, "watchdog timeout \(timeout) must be a positive number of seconds")
        watch = Watch(timeout: timeout, expire: expire)
        let context = Unmanaged.passRetained(watch).toOpaque()
        guard pthread_create(&thread, nil, { context in
            Unmanaged<Watch>.fromOpaque(context!).takeRetainedValue().loop()
            return nil
        }, context) == 0 else {
            Unmanaged<Watch>.fromOpaque(context).release()
            throw PipelineError("could not start the --comm-timeout watchdog's thread")
        }
    }

    /// The watchdog of `--comm-timeout` on world rank `rank`: prints the wait and ends every rank
    /// (MPI_Abort, which Open MPI takes from any thread).
    public static func ending(rank: Int, timeout: Double) throws -> CollectiveWatchdog {
        try CollectiveWatchdog(timeout: timeout) { wait in
            printError("watchdog: rank \(rank) \(wait); ending the job")
            Environment.abortJob()
        }
    }

    /// Runs `body`, a wait for `phase` (as the message names it: "the gradient sums of step 3").
    public func guarding<T>(_ phase: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        let name = phase()
        pthread_mutex_lock(&watch.lock)
        (watch.phase, watch.since) = (name, monotonicSeconds())
        pthread_mutex_unlock(&watch.lock)
        defer {
            pthread_mutex_lock(&watch.lock)
            watch.phase = nil
            pthread_mutex_unlock(&watch.lock)
        }
        return try body()
    }

    deinit {
        pthread_mutex_lock(&watch.lock)
        watch.running = false
        pthread_cond_signal(&watch.stopping)
        pthread_mutex_unlock(&watch.lock)
        pthread_join(thread, nil)
    }
}

extension Optional where Wrapped == CollectiveWatchdog {
    /// `body` under the watchdog when there is one.
    func guarding<T>(_ phase: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        guard let watchdog = self else { return try body() }
        return try watchdog.guarding(phase(), body)
    }
}
