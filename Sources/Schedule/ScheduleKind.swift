/// The pipeline schedules this module can generate.
public enum ScheduleKind: String, Sendable, CaseIterable, Codable {
    case dualpipe
    case dualpipev
    case oneFOneB = "1f1b"
    case zb1p
    case gpipe
    case interleaved1F1B = "interleaved1f1b"
    case zbv
    case interleavedZB = "interleavedzb"
    case loopedBFS = "loopedbfs"

    /// Parses a kind name, case-insensitively; throws `ScheduleError.unknownKind` otherwise.
    public static func named(_ name: String) throws -> ScheduleKind {
        guard let kind = ScheduleKind(rawValue: name.lowercased()) else {
            throw ScheduleError.unknownKind(name)
        }
        return kind
    }

    /// Human name used in tables and pictures.
    public var title: String {
        switch self {
        case .dualpipe: "DualPipe"
        case .dualpipev: "DualPipeV"
        case .oneFOneB: "1F1B"
        case .zb1p: "ZB1P"
        case .gpipe: "GPipe"
        case .interleaved1F1B: "Interleaved 1F1B"
        case .zbv: "ZB-V"
        case .interleavedZB: "Interleaved ZB"
        case .loopedBFS: "Looped BFS"
        }
    }

    /// Megatron-LM's virtual pipeline layout: V stages a rank (any V from 2), stage s on rank
    /// s mod N, so a micro-batch loops around the ranks V times (Interleaved 1F1B and ZB, and
    /// Looped BFS, which runs the loops breadth first).
    public var isLooped: Bool { self == .interleaved1F1B || self == .interleavedZB || self == .loopedBFS }

    /// PyTorch's interleaved schedules run their micro-batches in max(1, M / N) rounds of equal
    /// groups, so they take only an M those rounds divide.
    public var runsInRounds: Bool { self == .interleaved1F1B || self == .interleavedZB }
}
