import CMPI

/// MPI's thread support levels, in increasing order of what they allow.
public enum ThreadLevel: Int, Comparable, CustomStringConvertible, Sendable, CaseIterable {
    /// One thread only.
    case single
    /// Many threads, only the main one calls MPI. The default: the DualPipe loop is synchronous.
    case funneled
    /// Many threads call MPI, one at a time.
    case serialized
    /// Any thread calls MPI at any time.
    case multiple

    var mpiValue: Int32 {
        switch self {
        case .single: cmpi_thread_single()
        case .funneled: cmpi_thread_funneled()
        case .serialized: cmpi_thread_serialized()
        case .multiple: cmpi_thread_multiple()
        }
    }

    init?(mpiValue: Int32) {
        guard let level = ThreadLevel.allCases.first(where: { $0.mpiValue == mpiValue }) else { return nil }
        self = level
    }

    public static func < (lhs: ThreadLevel, rhs: ThreadLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .single: "MPI_THREAD_SINGLE"
        case .funneled: "MPI_THREAD_FUNNELED"
        case .serialized: "MPI_THREAD_SERIALIZED"
        case .multiple: "MPI_THREAD_MULTIPLE"
        }
    }
}
