/// A generated schedule: per rank, the ordered compute actions. The data everything else reads.
public struct Schedule: Hashable, Sendable {
    public let configuration: ScheduleConfiguration
    /// [ranks][steps]: rank r's actions in execution order.
    public let program: [[Action]]

    public init(configuration: ScheduleConfiguration, program: [[Action]]) {
        self.configuration = configuration
        self.program = program
    }

    /// Generates the schedule of a (validated) configuration.
    public init(_ configuration: ScheduleConfiguration) {
        let n = configuration.ranks, m = configuration.microBatches
        let program: [[Action]] = switch configuration.kind {
        case .dualpipe: DualPipeGenerator.program(ranks: n, microBatches: m)
        case .dualpipev: DualPipeVGenerator.program(ranks: n, microBatches: m)
        case .oneFOneB: OneFOneBGenerator.program(ranks: n, microBatches: m)
        case .zb1p: ZeroBubbleH1Generator.program(ranks: n, microBatches: m)
        case .gpipe: GPipeGenerator.program(ranks: n, microBatches: m)
        case .interleaved1F1B: Interleaved1F1BGenerator.program(ranks: n, microBatches: m, stagesPerRank: configuration.stagesPerRank)
        case .zbv: ZeroBubbleVGenerator.program(ranks: n, microBatches: m)
        case .interleavedZB: InterleavedZeroBubbleGenerator.program(ranks: n, microBatches: m, stagesPerRank: configuration.stagesPerRank)
        case .loopedBFS: LoopedBFSGenerator.program(ranks: n, microBatches: m, stagesPerRank: configuration.stagesPerRank)
        }
        self.init(configuration: configuration, program: program)
    }

    /// Checks the rules, then generates.
    public static func generate(kind: ScheduleKind, ranks: Int, microBatches: Int, stagesPerRank: Int? = nil) throws -> Schedule {
        try Schedule(ScheduleConfiguration(kind: kind, ranks: ranks, microBatches: microBatches, stagesPerRank: stagesPerRank))
    }

    public var kind: ScheduleKind { configuration.kind }
    public var ranks: Int { configuration.ranks }
    public var stages: Int { configuration.stages }
    public var microBatches: Int { configuration.microBatches }
    public var stagesPerRank: Int { configuration.stagesPerRank }

    /// The distinct stages whose parameters rank r holds, in increasing order.
    public func stagesHeld(by rank: Int) -> [Int] {
        Array(Set(program[rank].flatMap { $0.chunks.map(\.stage) })).sorted()
    }
}
