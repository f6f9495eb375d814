import CLaneKernels

/// The elementwise kernels that need exponentials (softmax, GELU, SiLU, the SwiGLU gate, the
/// sigmoid router) come from the C target CLaneKernels, compiled once per x86 instruction set:
/// Swift compiles a function for one CPU only, and this binary must run on any x86-64, where
/// Swift's 16-lane vectors became four SSE registers and spent 1.2 ns on one exponential.
/// The widest set this CPU runs is chosen at the first use and kept for the process.
public enum LaneKernels {
    /// The set in use: "avx512", "avx2" or "generic".
    public static var name: String { String(cString: active.name) }

    /// The names of every set this CPU runs, widest first.
    public static var supported: [String] {
        ["avx512", "avx2", "generic"].filter { dp_lane_kernels_named($0) != nil }
    }

    // A C struct of function pointers and a name in static storage: never written after this
    // first read, so sharing it between threads is safe though Swift cannot see that.
    @usableFromInline nonisolated(unsafe) static let active: dp_lane_kernels = dp_lane_kernels_best().pointee
}
