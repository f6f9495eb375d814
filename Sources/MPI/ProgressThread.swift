import CMPI

#if canImport(Glibc)
import Glibc
#endif

/// A thread that asks MPI to make progress every `interval` seconds (MPI_Iprobe on a private
/// duplicate of a communicator), so that nonblocking messages move while the rank's own thread
/// is inside a BLAS call. Needs MPI_THREAD_MULTIPLE. It runs until `stop()`, which waits for it
/// to finish, or until its environment finalizes, which stops it before MPI_Finalize.
public final class ProgressThread {
    private let communicator: Communicator
    private let interval: Double
    private var thread = pthread_t()
    private var running = true
    private var lock = pthread_mutex_t()
    private var started = false

    public init(environment: Environment, communicator: Communicator, interval: Double) throws {
        guard environment.providedThreadLevel == .multiple else {
            throw MPIUsageError("a progress thread needs MPI_THREAD_MULTIPLE; MPI provides \(environment.providedThreadLevel)")
        }
        precondition(interval > 0 && interval.isFinite, "progress interval \(interval) must be a positive number of seconds")
        // Its own communicator, so that its probes never match a message the rank is waiting for.
        self.communicator = try communicator.duplicate()
        self.interval = interval
        pthread_mutex_init(&lock, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { context in
            let progress = Unmanaged<ProgressThread>.fromOpaque(context!).takeRetainedValue()
            progress.loop()
            return nil
        }, context) == 0 else {
            Unmanaged<ProgressThread>.fromOpaque(context).release()
            throw MPIUsageError("could not start the progress thread")
        }
        started = true
        environment.progressThreads.append(self)
    }

    private var isRunning: Bool {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return running
    }

    private func loop() {
        let pause = useconds_t(max(1, interval * 1e6))
        var flag: Int32 = 0
        while isRunning {
            // Any MPI call drives Open MPI's progress engine; a probe is the cheapest one.
            MPI_Iprobe(cmpi_any_source(), cmpi_any_tag(), communicator.handle, &flag, cmpi_status_ignore())
            usleep(pause)
        }
    }

    /// Stops the thread and waits for it.
    public func stop() {
        guard started else { return }
        pthread_mutex_lock(&lock)
        running = false
        pthread_mutex_unlock(&lock)
        pthread_join(thread, nil)
        started = false
    }
}
