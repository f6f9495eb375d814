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
        if let start {
            SgemmAccounting.record(since: start, .init(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB))
        }
    }
}

/// Time and work inside sgemm, summed between `start()` and `stop()` over the calls made on the
/// thread that called `start()`: how much of a pass is BLAS and how fast BLAS runs at the model's
/// own shapes (`bench model`). Other threads' calls (tests running side by side) are not counted.
public enum SgemmAccounting {
    /// A product's dimensions as `sgemm` gets them: `op(a)` is `[m, k]`, `op(b)` `[k, n]`.
    public struct Shape: Hashable, Sendable, CustomStringConvertible {
        public var m, n, k: Int
        public var transposeA, transposeB: Bool
        /// "512x4096x512 NT": m x n x k, then each operand as stored (N) or transposed (T).
        public var description: String { "\(m)x\(n)x\(k) \(transposeA ? "T" : "N")\(transposeB ? "T" : "N")" }

        @inlinable
        public init(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) {
            (self.m, self.n, self.k, self.transposeA, self.transposeB) = (m, n, k, transposeA, transposeB)
        }
    }

    /// What the calls of one shape took.
    public struct Work: Sendable, Equatable {
        public var calls = 0
        public var seconds = 0.0
        public var flops = 0.0
    }

    nonisolated(unsafe) public private(set) static var seconds = 0.0
    nonisolated(unsafe) public private(set) static var flops = 0.0
    /// Per shape, when `start(byShape: true)` asked for it.
    nonisolated(unsafe) public private(set) static var byShape: [Shape: Work] = [:]
    nonisolated(unsafe) private static var countsShapes = false
    /// The counting thread (`pthread_self`), 0 when none.
    @usableFromInline static let owner = Atomic<UInt>(0)

    /// Zeroes the counters and counts this thread's calls from now on; per shape too if
    /// `byShape` (a dictionary update a call, so only where that is wanted).
    public static func start(byShape: Bool = false) {
        seconds = 0
        flops = 0
        self.byShape = [:]
        countsShapes = byShape
        owner.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .sequentiallyConsistent)
    }

    public static func stop() { owner.store(0, ordering: .sequentiallyConsistent) }

    @inlinable
    static var countsThisThread: Bool {
        let current = UInt(bitPattern: Int(bitPattern: pthread_self()))
        return owner.load(ordering: .relaxed) == current
    }

    @usableFromInline
    static func record(since start: ContinuousClock.Instant, _ shape: Shape) {
        let elapsed = (ContinuousClock.now - start).components
        let time = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let work = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k)
        seconds += time
        flops += work
        if countsShapes {
            byShape[shape, default: Work()].calls += 1
            byShape[shape]!.seconds += time
            byShape[shape]!.flops += work
        }
    }
}
