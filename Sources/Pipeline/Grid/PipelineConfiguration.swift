import Model
import Schedule

/// What a pipeline run is, checked before any communication: the schedule (kind, PP ranks, M
/// micro-batches per EP rank), the EP size, and how the model's blocks cut into the schedule's
/// stages. Every rank builds it from the same flags and reaches the same verdict, so a bad
/// configuration stops every rank with the same message.
public struct PipelineConfiguration: Sendable, Equatable {
    public let schedule: ScheduleConfiguration
    /// Ranks of an expert-parallel group (one per pipeline rank); 1 means no EP.
    public let expertParallel: Int
    public let partition: StagePartition
    /// R: physical expert slots of each MoE layer over the EP group, R / EP on each EP rank.
    public let replicas: Int

    public var kind: ScheduleKind { schedule.kind }
    /// PP: pipeline ranks.
    public var pipelineRanks: Int { schedule.ranks }
    /// M: micro-batches each EP rank runs per step.
    public var microBatches: Int { schedule.microBatches }
    /// V: the stages each pipeline rank holds.
    public var stagesPerRank: Int { schedule.stagesPerRank }
    /// Micro-batches of a whole step over the EP group: M x EP.
    public var globalMicroBatches: Int { microBatches * expertParallel }
    /// Which pipeline rank takes which world ranks (`GridShape.RankOrder`).
    public private(set) var rankOrder: GridShape.RankOrder = .pipeline
    public var grid: GridShape { GridShape(pipeline: pipelineRanks, expert: expertParallel, order: rankOrder) }

    /// The same run with its ranks in `order`. The mirror order exists for DualPipe's mirror pairs.
    public func ordered(_ order: GridShape.RankOrder) throws(ConfigurationError) -> PipelineConfiguration {
        guard order == .pipeline || kind == .dualpipe else {
            throw ConfigurationError("--rank-order \(order.rawValue) puts DualPipe's mirror pairs (pp and PP-1-pp) side by side, and \(kind.title) has none (it holds one copy of each stage): use --schedule dualpipe, or --rank-order pipeline")
        }
        var ordered = self
        ordered.rankOrder = order
        return ordered
    }

    /// `worldSize` is the job's rank count; PP x EP must equal it. `replicas` nil takes
    /// `defaultReplicas`; `stagesPerRank` nil the kind's V.
    public init(kind: ScheduleKind, pipelineRanks: Int, expertParallel: Int, microBatches: Int, stagesPerRank: Int? = nil,
                model: ModelConfiguration, replicas: Int? = nil, worldSize: Int) throws(ConfigurationError) {
        try self.init(kind: kind, pipelineRanks: pipelineRanks, expertParallel: expertParallel, microBatches: microBatches,
                      stagesPerRank: stagesPerRank, layers: model.layers, experts: model.experts, replicas: replicas, worldSize: worldSize)
    }

    /// `--model mlp`: `blocks` `MLPBlock`s cut into the schedule's stages (nil: one per stage, as in
    /// DeepSeek's example), EP 1, no experts.
    public static func mlp(kind: ScheduleKind, pipelineRanks: Int, microBatches: Int, stagesPerRank: Int? = nil, blocks: Int? = nil,
                           worldSize: Int) throws(ConfigurationError) -> PipelineConfiguration {
        // A schedule that cannot be built is refused by the init, with the flags named.
        let stages = (try? ScheduleConfiguration(kind: kind, ranks: pipelineRanks, microBatches: microBatches, stagesPerRank: stagesPerRank))?.stages ?? 1
        if let blocks, blocks < 1 || blocks > ModelLimits.layers {
            throw ConfigurationError("--layers \(blocks) must be in 1...\(ModelLimits.layers)")
        }
        return try PipelineConfiguration(kind: kind, pipelineRanks: pipelineRanks, expertParallel: 1, microBatches: microBatches,
                                         stagesPerRank: stagesPerRank, layers: blocks ?? stages, experts: 1, replicas: nil, worldSize: worldSize)
    }

    private init(kind: ScheduleKind, pipelineRanks: Int, expertParallel: Int, microBatches: Int, stagesPerRank: Int?,
                 layers: Int, experts: Int, replicas: Int?, worldSize: Int) throws(ConfigurationError) {
        guard pipelineRanks >= 1 else { throw ConfigurationError("--pp must be at least 1, got \(pipelineRanks)") }
        guard expertParallel >= 1 else { throw ConfigurationError("--ep must be at least 1, got \(expertParallel)") }
        // Each factor within the world first, so the product cannot overflow.
        guard pipelineRanks <= worldSize && expertParallel <= worldSize && pipelineRanks * expertParallel == worldSize else {
            guard pipelineRanks <= worldSize && expertParallel <= worldSize else {
                throw ConfigurationError("the rank grid PP \(pipelineRanks) x EP \(expertParallel) does not match the \(worldSize) ranks of the job (mpirun -np): each must be at most \(worldSize), with PP x EP = \(worldSize)")
            }
            throw ConfigurationError("the rank grid PP \(pipelineRanks) x EP \(expertParallel) = \(pipelineRanks * expertParallel) ranks does not match the \(worldSize) ranks of the job (mpirun -np); choose --pp and --ep with PP x EP = \(worldSize)")
        }
        do {
            schedule = try ScheduleConfiguration(kind: kind, ranks: pipelineRanks, microBatches: microBatches, stagesPerRank: stagesPerRank)
        } catch {
            let v = stagesPerRank.map { ", --stages-per-rank \($0)" } ?? ""
            throw ConfigurationError("\(error) (--schedule \(kind.rawValue), --pp \(pipelineRanks), --micro-batches \(microBatches)\(v))")
        }
        let stages = schedule.stages
        guard layers >= stages && layers % stages == 0 else {
            let working = (1...3).map { String($0 * stages) }.joined(separator: ", ")
            let on = kind.isLooped ? "PP \(pipelineRanks) x V \(schedule.stagesPerRank)" : "PP \(pipelineRanks)"
            throw ConfigurationError("\(layers) layers cannot be cut into the \(stages) stages of \(kind.title) on \(on) (each stage needs the same number of blocks): use a multiple of \(stages) layers, e.g. --layers \(working)")
        }
        partition = try StagePartition(layers: layers, stages: stages)
        self.expertParallel = expertParallel
        let r = replicas ?? Self.defaultReplicas(experts: experts, expertParallel: expertParallel)
        guard r >= experts else {
            throw ConfigurationError("--replicas \(r) is fewer than the \(experts) experts: every expert needs a slot")
        }
        guard r % expertParallel == 0 else {
            throw ConfigurationError("--replicas \(r) does not split over EP \(expertParallel) ranks (R / EP slots on each): use a multiple of \(expertParallel)")
        }
        self.replicas = r
    }

    /// R when --replicas is not given: the experts plus one redundant slot per EP rank, rounded
    /// up so EP divides R; with EP 1 no redundancy (a second copy on the same rank gains nothing).
    public static func defaultReplicas(experts: Int, expertParallel: Int) -> Int {
        guard expertParallel > 1 else { return experts }
        return (experts + expertParallel + expertParallel - 1) / expertParallel * expertParallel
    }

    /// Slots on each EP rank.
    public var slotsPerRank: Int { replicas / expertParallel }

    /// The EP size the command line uses when --ep is not given: 2 where that leaves a pipeline
    /// of at least 2 ranks that `kind` runs (an even world size; for DualPipe, whose PP must be
    /// even too, a multiple of 4), else 1. So `mpirun -np 6` runs DualPipe on PP 6, not PP 3.
    public static func defaultExpertParallel(kind: ScheduleKind, worldSize: Int) -> Int {
        worldSize >= 4 && worldSize % (kind == .dualpipe ? 4 : 2) == 0 ? 2 : 1
    }

    /// The grids PP x EP of `worldSize` ranks that `kind` runs on `model` (each EP a divisor of the
    /// world; `pipelineRanks` or `expertParallel` fixes that factor; `microBatches` nil: each
    /// grid's default), for an error to name when the defaults or one flag gave a grid that does
    /// not run. Pure: nothing is built.
    public static func grids(kind: ScheduleKind, model: ModelConfiguration, worldSize: Int, pipelineRanks: Int? = nil,
                             expertParallel: Int? = nil, microBatches: Int? = nil, stagesPerRank: Int? = nil,
                             replicas: Int? = nil) -> [(pp: Int, ep: Int)] {
        guard worldSize >= 1 else { return [] }
        return (1...worldSize).compactMap { ep in
            let pp = worldSize / ep
            guard worldSize % ep == 0, pipelineRanks.map({ $0 == pp }) ?? true, expertParallel.map({ $0 == ep }) ?? true else { return nil }
            let m = microBatches ?? defaultMicroBatches(kind: kind, pipelineRanks: pp)
            let runs = (try? PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: ep, microBatches: m,
                                                   stagesPerRank: stagesPerRank, model: model,
                                                   replicas: replicas, worldSize: worldSize)) != nil
            return runs ? (pp, ep) : nil
        }
    }

    /// The micro-batches per EP rank when --micro-batches is not given: at least `floor` (4, or
    /// `--model mlp`'s 20, the example's) and at least what the kind needs on PP ranks (DualPipe and
    /// DualPipeV: 2 PP), even for DualPipe; for Interleaved 1F1B and Interleaved ZB at least two groups of PP (one
    /// group alone runs every forward before any backward), a multiple of PP; for Looped BFS at
    /// least PP (fewer, and each loop around the ranks waits for the one before).
    public static func defaultMicroBatches(kind: ScheduleKind, pipelineRanks: Int, atLeast floor: Int = 4) -> Int {
        // A PP too large for any job is refused later; here it must only not overflow.
        let pp = max(1, min(pipelineRanks, 1 << 20))
        let m = max(floor, ScheduleConfiguration.minimumMicroBatches(kind: kind, ranks: pp))
        return switch kind {
        case .dualpipe: m + m % 2
        case .interleaved1F1B, .interleavedZB: (max(m, 2 * pp) + pp - 1) / pp * pp
        case .loopedBFS: max(m, pp)
        case .dualpipev, .oneFOneB, .zb1p, .gpipe, .zbv: m
        }
    }

    /// The global stages pipeline rank `pp` holds, ascending (the schedule's layout,
    /// `ScheduleConfiguration.stagesHeld(by:)`).
    public func stagesHeld(byPipelineRank pp: Int) -> [Int] {
        schedule.stagesHeld(by: pp)
    }

    /// The held stages this pipeline rank counts once in global sums (the gradient norm, the
    /// reference comparison): DualPipe's stage s has two copies, on pipeline ranks s and PP-1-s;
    /// the one on rank s counts.
    public func primaryStages(ofPipelineRank pp: Int) -> [Int] {
        kind == .dualpipe ? [pp] : stagesHeld(byPipelineRank: pp)
    }

    /// The pipeline rank whose copy of `stage` is the primary one: where micro-batch 0 meets it
    /// (DualPipe's stage s on rank s; the other kinds hold one copy).
    public func primaryPipelineRank(of stage: Int) -> Int {
        schedule.rank(of: Chunk(stage: stage, microBatch: 0))
    }

    /// Ranks that hold the same stages, and so sum their gradients: DualPipe's mirror pair
    /// {pp, PP-1-pp} over the whole EP group, otherwise the EP group. The number names the group.
    public func replicaGroup(ofPipelineRank pp: Int) -> Int {
        kind == .dualpipe ? min(pp, pipelineRanks - 1 - pp) : pp
    }

    /// The pipeline ranks of pipeline rank `pp`'s replica group (each over the whole EP group):
    /// DualPipe's mirror pair, otherwise `pp` alone.
    public func replicaPipelineRanks(ofPipelineRank pp: Int) -> [Int] {
        kind == .dualpipe ? [pp, pipelineRanks - 1 - pp].sorted() : [pp]
    }

    /// Ranks in each replica group: the copies of every stage that the gradient sums add.
    public var replicaGroupSize: Int { (kind == .dualpipe ? 2 : 1) * expertParallel }
}
