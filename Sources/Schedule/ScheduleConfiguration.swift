/// What to generate: a kind, a number of ranks N, of micro-batches M, and of stages V each rank
/// holds. The init is the one place where the rules on (kind, N, M, V) live; the command line uses it too.
public struct ScheduleConfiguration: Hashable, Sendable {
    public let kind: ScheduleKind
    public let ranks: Int
    public let microBatches: Int
    /// V: the stages (model chunks) each rank holds. Fixed by the kind (DualPipeV and ZB-V 2, the
    /// one-stage kinds 1), except the looped kinds', Megatron-LM's virtual pipeline size (2 unless chosen).
    public let stagesPerRank: Int

    /// At most this many ranks N: validation of the lowered program grows with N squared.
    public static let maximumRanks = 4096
    /// At most this many chunks (stages x micro-batches) in one schedule: every chunk is about three
    /// actions and their messages, held at once by generation, lowering, validation and simulation
    /// (about 1 GiB and a few seconds at the limit).
    public static let maximumChunks = 1 << 19
    /// At most this many stages V a rank (the looped kinds): each is a model chunk of at least one block.
    public static let maximumStagesPerRank = 64

    /// Checks the rules and throws `ScheduleError` naming the first one broken. `stagesPerRank`
    /// nil takes the kind's default.
    public init(kind: ScheduleKind, ranks: Int, microBatches: Int, stagesPerRank: Int? = nil) throws {
        guard ranks >= 1 else { throw ScheduleError.tooFewRanks(kind: kind, ranks: ranks) }
        guard ranks <= Self.maximumRanks else {
            throw ScheduleError.tooLarge(kind: kind, "N = \(ranks) ranks exceeds the limit of \(Self.maximumRanks) ranks")
        }
        let v = stagesPerRank ?? Self.defaultStagesPerRank(kind)
        try Self.check(stagesPerRank: v, kind: kind)
        guard microBatches >= 1 else {
            throw ScheduleError.tooFewMicroBatches(
                kind: kind, microBatches: microBatches, minimum: Self.minimumMicroBatches(kind: kind, ranks: ranks),
                rule: Self.minimumRule(kind))
        }
        // stages x M <= maximumChunks, written so that the product cannot overflow.
        let stages = v * ranks
        guard microBatches <= Self.maximumChunks / stages else {
            throw ScheduleError.tooLarge(
                kind: kind,
                "\(stages) stages x M = \(microBatches) micro-batches exceeds the limit of \(Self.maximumChunks) chunks (stages x micro-batches)")
        }
        if kind == .dualpipe {
            guard ranks % 2 == 0 else { throw ScheduleError.oddRanks(kind: kind, ranks: ranks) }
            guard microBatches % 2 == 0 else {
                throw ScheduleError.oddMicroBatches(kind: kind, microBatches: microBatches)
            }
        }
        let minimum = Self.minimumMicroBatches(kind: kind, ranks: ranks)
        guard microBatches >= minimum else {
            throw ScheduleError.tooFewMicroBatches(
                kind: kind, microBatches: microBatches, minimum: minimum, rule: Self.minimumRule(kind))
        }
        // PyTorch's rounds: max(1, M / N) equal groups, so groups of N to 2N - 1 (all M below 2N).
        if kind.runsInRounds && !Self.splitsIntoRounds(microBatches: microBatches, ranks: ranks) {
            throw ScheduleError.microBatchesNotInGroups(kind: kind, microBatches: microBatches, ranks: ranks)
        }
        self.kind = kind
        self.ranks = ranks
        self.microBatches = microBatches
        self.stagesPerRank = v
    }

    /// Parses the kind by name, then checks the rules.
    public init(kindName: String, ranks: Int, microBatches: Int, stagesPerRank: Int? = nil) throws {
        try self.init(kind: ScheduleKind.named(kindName), ranks: ranks, microBatches: microBatches, stagesPerRank: stagesPerRank)
    }

    /// The interleaved kinds' rule for M, PyTorch's: M goes in max(1, M / N) rounds of equal groups,
    /// so M must be a multiple of that count (any M below 2N, every multiple of N, and more:
    /// N = 4 takes M = 10 as two groups of 5).
    public static func splitsIntoRounds(microBatches m: Int, ranks n: Int) -> Bool {
        m % max(1, m / max(n, 1)) == 0
    }

    /// The smallest M the kind accepts for N ranks.
    public static func minimumMicroBatches(kind: ScheduleKind, ranks: Int) -> Int {
        switch kind {
        case .dualpipe, .dualpipev: 2 * max(ranks, 1)
        case .zb1p: max(ranks, 1)
        case .oneFOneB, .gpipe, .zbv, .interleaved1F1B, .interleavedZB, .loopedBFS: 1
        }
    }

    static func minimumRule(_ kind: ScheduleKind) -> String {
        switch kind {
        case .dualpipe, .dualpipev: "at least twice as many micro-batches as ranks (M >= 2N)"
        case .zb1p: "at least as many micro-batches as ranks (M >= N)"
        case .oneFOneB, .gpipe, .zbv, .interleaved1F1B, .interleavedZB, .loopedBFS: "at least one micro-batch (M >= 1)"
        }
    }

    /// Global pipeline stages: DualPipeV and ZB-V fold 2N stages onto N ranks, the interleaved
    /// kinds loop VN around them, the others have one per rank.
    public var stages: Int { stagesPerRank * ranks }

    /// The pass around the ranks that `stage` is on: an interleaved kind's stage s on lap s / N;
    /// 0 for the kinds whose micro-batches meet each rank pair once a direction.
    public func lap(of stage: Int) -> Int {
        kind.isLooped ? stage / ranks : 0
    }

    /// The rule on V alone: the looped kinds take 2 to `maximumStagesPerRank`, the others their fixed V.
    public static func check(stagesPerRank v: Int, kind: ScheduleKind) throws(ScheduleError) {
        let fixed = defaultStagesPerRank(kind)
        guard kind.isLooped else {
            guard v == fixed else {
                throw .invalidStagesPerRank(kind: kind, stagesPerRank: v,
                                            rule: "\(fixed) stage\(fixed == 1 ? "" : "s") a rank (V = \(fixed); only Interleaved 1F1B, Interleaved ZB and Looped BFS take another V)")
            }
            return
        }
        guard v >= 2 else {
            throw .invalidStagesPerRank(kind: kind, stagesPerRank: v, rule: "at least 2 stages a rank (V >= 2; with one it is 1F1B)")
        }
        guard v <= maximumStagesPerRank else {
            throw .tooLarge(kind: kind, "V = \(v) stages a rank exceeds the limit of \(maximumStagesPerRank)")
        }
    }

    /// The kind's name, with V where the kind takes one ("Interleaved 1F1B (V = 3)"), for a run's first line.
    public var title: String {
        kind.isLooped ? "\(kind.title) (V = \(stagesPerRank))" : kind.title
    }

    /// The stages V each rank holds when none is chosen: its model chunks.
    public static func defaultStagesPerRank(_ kind: ScheduleKind) -> Int {
        switch kind {
        case .dualpipev, .zbv, .interleaved1F1B, .interleavedZB, .loopedBFS: 2
        case .dualpipe, .oneFOneB, .zb1p, .gpipe: 1
        }
    }

    /// The rank that holds `stage` for `microBatch`.
    /// DualPipe: micro-batches 0..<M/2 enter at rank 0 (stage s on rank s), the rest enter at rank
    /// N-1 (stage s on rank N-1-s). DualPipeV and ZB-V: stage s < N on rank s, stage s >= N on
    /// rank 2N-1-s.
    /// Interleaved 1F1B and ZB, Looped BFS: stage s on rank s mod N.
    public func rank(of chunk: Chunk) -> Int {
        switch kind {
        case .dualpipe:
            chunk.microBatch < microBatches / 2 ? chunk.stage : ranks - 1 - chunk.stage
        case .dualpipev, .zbv:
            chunk.stage < ranks ? chunk.stage : 2 * ranks - 1 - chunk.stage
        case .interleaved1F1B, .interleavedZB, .loopedBFS:
            chunk.stage % ranks
        case .oneFOneB, .zb1p, .gpipe:
            chunk.stage
        }
    }

    /// The stages `rank` holds, ascending: those `rank(of:)` puts there for the first micro-batch
    /// or the last (DualPipe places a stage by the end its micro-batch enters at). DualPipe: r and
    /// N-1-r; DualPipeV and ZB-V: r and 2N-1-r; the looped kinds: r, N+r, ..., (V-1)N+r; the
    /// others: r.
    public func stagesHeld(by rank: Int) -> [Int] {
        (0..<stages).filter { stage in
            self.rank(of: Chunk(stage: stage, microBatch: 0)) == rank
                || self.rank(of: Chunk(stage: stage, microBatch: microBatches - 1)) == rank
        }
    }

    /// Whether `rank` runs micro-batch `microBatch`'s first stage (it reads the input) and its last
    /// (it reads the targets).
    public func runsEnds(of microBatch: Int, onRank rank: Int) -> (first: Bool, last: Bool) {
        (self.rank(of: Chunk(stage: 0, microBatch: microBatch)) == rank,
         self.rank(of: Chunk(stage: stages - 1, microBatch: microBatch)) == rank)
    }

    /// Whether the chunk exists in this configuration.
    public func contains(_ chunk: Chunk) -> Bool {
        (0..<stages).contains(chunk.stage) && (0..<microBatches).contains(chunk.microBatch)
    }
}
