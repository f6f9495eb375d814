import CBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The OpenBLAS library underneath every tensor kernel: what it was built as, how many
/// threads it uses, and the one sgemm call that the matmul family is built on.
public enum BLAS {
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// The kernel family OpenBLAS chose for this CPU (or OPENBLAS_CORETYPE named), e.g. "Haswell".
    public static var coreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }

    /// The number of threads OpenBLAS runs a call on (OPENBLAS_NUM_THREADS, or the core count).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Pins OpenBLAS to `count` threads. Pipeline ranks use 1: one rank, one core.
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "OpenBLAS thread count must be >= 1, got \(count)")
        openblas_set_num_threads(Int32(count))
    }

    /// Row-major `c[m, n] = alpha * op(a) · op(b) + beta * c`, where `op(a)` is `[m, k]`
    /// (`a` stored `[k, m]` when `transposeA`) and `op(b)` is `[k, n]` (`b` stored `[n, k]`
    /// when `transposeB`). Leading dimensions are the stored row lengths.
    @inlinable
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
              alpha: alpha, a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n,
              beta: beta, c: c, ldc: n)
    }
}

extension BLAS {
    /// Row-major sgemm over sub-matrices of larger buffers: like `sgemm`, but with explicit
    /// leading dimensions (the stored row lengths `lda`, `ldb`, `ldc`), so a per-head slice of
    /// a `[tokens, heads * headDim]` activation can be multiplied without copying it out.
    @inlinable
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let start = SgemmAccounting.countsThisThread ? ContinuousClock.now : nil
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
        if let start { SgemmAccounting.record(since: start, m: m, n: n, k: k) }
    }
}

/// Time and work inside sgemm, summed between `start()` and `stop()` over the calls made on the
/// thread that called `start()`: how much of a pass is BLAS and how fast BLAS runs at the model's
/// own shapes (`bench model`). Other threads' calls (tests running side by side) are not counted.
public enum SgemmAccounting {
    nonisolated(unsafe) public private(set) static var seconds = 0.0
    nonisolated(unsafe) public private(set) static var flops = 0.0
    /// The counting thread (`pthread_self`), 0 when none.
    @usableFromInline static let owner = Atomic<UInt>(0)

    /// Zeroes the counters and counts this thread's calls from now on.
    public static func start() {
        seconds = 0
        flops = 0
        owner.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .sequentiallyConsistent)
    }

    public static func stop() { owner.store(0, ordering: .sequentiallyConsistent) }

    @inlinable
    static var countsThisThread: Bool {
        let current = UInt(bitPattern: Int(bitPattern: pthread_self()))
        return owner.load(ordering: .relaxed) == current
    }

    @usableFromInline
    static func record(since start: ContinuousClock.Instant, m: Int, n: Int, k: Int) {
        let elapsed = (ContinuousClock.now - start).components
        seconds += Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        flops += 2 * Double(m) * Double(n) * Double(k)
    }
}
