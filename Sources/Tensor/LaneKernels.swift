import CLaneKernels
import Foundation

/// The elementwise kernels that need exponentials (softmax, GELU, SiLU, the SwiGLU gate, the
/// sigmoid router) come from the C target CLaneKernels, compiled once per x86 instruction set:
/// Swift compiles a function for one CPU only, and this binary must run on any x86-64, where
/// Swift's 16-lane vectors became four SSE registers and spent 1.2 ns on one exponential.
/// The widest set this CPU runs is chosen at the first use and kept for the process, unless
/// DUALPIPE_LANE_KERNELS names another (the same arithmetic on every node of a mixed cluster).
public enum LaneKernels {
    /// Names the set to run instead of the widest: "avx512", "avx2" or "generic".
    public static let environmentVariable = "DUALPIPE_LANE_KERNELS"

    /// Every set, widest first.
    public static let all = ["avx512", "avx2", "generic"]

    /// The set in use.
    public static var name: String { String(cString: active.name) }

    /// The names of every set this CPU runs, widest first.
    public static var supported: [String] { all.filter { dp_lane_kernels_named($0) != nil } }

    /// Why a requested set cannot run: it is no set, or not one this CPU runs.
    public enum RequestProblem: Equatable, Sendable { case unknown, unsupported }

    /// What requesting `name` means on a CPU that runs `supported`: nil when it runs.
    public static func problem(requesting name: String, supported: [String]) -> RequestProblem? {
        guard all.contains(name) else { return .unknown }
        return supported.contains(name) ? nil : .unsupported
    }

    /// The set DUALPIPE_LANE_KERNELS names, if any (set and empty counts as unset), and why this
    /// CPU cannot run it (nil: it can).
    public static var requested: (name: String, problem: RequestProblem?)? {
        guard let name = ProcessInfo.processInfo.environment[environmentVariable], !name.isEmpty else { return nil }
        return (name, problem(requesting: name, supported: supported))
    }

    // A C struct of function pointers and a name in static storage: never written after this
    // first read, so sharing it between threads is safe though Swift cannot see that. A request
    // this CPU cannot run falls back to the widest set; commands refuse it before any work.
    @usableFromInline nonisolated(unsafe) static let active: dp_lane_kernels = {
        if let request = requested, request.problem == nil, let set = dp_lane_kernels_named(request.name) { return set.pointee }
        return dp_lane_kernels_best().pointee
    }()
}

extension LaneKernels {
    /// Independent multiply-add chains in the widest set this CPU runs, whatever
    /// DUALPIPE_LANE_KERNELS asks (the peak belongs to the core, not to the set in use): `chains`
    /// floats stepped x = x·a + b `iterations` times (2 · chains · iterations FLOP), returning
    /// their sum. Timed, it is the core's multiply-add peak: the roofline sgemm is a share of.
    public static func multiplyAddChains(iterations: Int, a: Float, b: Float) -> Float {
        dp_lane_kernels_best().pointee.multiply_add_chains(iterations, a, b)
    }

    /// The floats each iteration of `multiplyAddChains` updates (twelve registers of lanes).
    public static var peakChains: Int { dp_lane_kernels_best().pointee.peak_chains }

    /// The set `multiplyAddChains` runs in.
    public static var peakSet: String { String(cString: dp_lane_kernels_best().pointee.name) }
}
