import Foundation
import Model
import Schedule

/// What a checkpoint is, written by rank 0 after every shard is on disk: a checkpoint folder
/// without its manifest is not a checkpoint. A resumed run must match it.
public struct CheckpointManifest: Codable, Equatable, Sendable {
    public static let format = 1

    public var format: Int
    /// The next step to run: the checkpoint holds the state after steps 0..<step.
    public var step: Int
    public var schedule: String
    /// V, the stages each pipeline rank held (absent in older checkpoints: the schedule's fixed V,
    /// an interleaved kind's 2).
    public var stagesPerRank: Int?
    public var pipelineRanks: Int
    public var expertParallel: Int
    public var microBatches: Int
    public var replicas: Int
    /// How the run placed its pipeline ranks: shards are named by world rank, so a resume finds
    /// its shard through this order (absent in older checkpoints: `pipeline`). A resume may use
    /// another order.
    public var rankOrder: GridShape.RankOrder?
    public var seed: UInt64
    public var model: [String: String]
    public var training: [String: String]
    /// Shard file name -> FNV-1a 64 checksum (hex) of its bytes.
    public var shards: [String: String]
    /// The build that wrote it, as `dualpipe --version` names it (absent in checkpoints of older
    /// builds). Not part of the match: any build resumes any checkpoint of its format, though a
    /// resume is bit for bit only where the two builds compute alike.
    public var build: String?

    /// The fields of a model configuration, by name, as text (sets sorted).
    public static func describe(_ m: ModelConfiguration) -> [String: String] {
        [
            "hidden": "\(m.hidden)", "heads": "\(m.heads)", "layers": "\(m.layers)",
            "moeLayers": m.moeLayers.sorted().map(String.init).joined(separator: ","),
            "ffnHidden": "\(m.ffnHidden)", "experts": "\(m.experts)", "expertHidden": "\(m.expertHidden)",
            "topK": "\(m.topK)", "groups": "\(m.groups)", "topKGroups": "\(m.topKGroups)",
            "sharedExpert": "\(m.sharedExpert)", "scoring": m.scoring.rawValue, "normalizeGates": "\(m.normalizeGates)",
            "routedScaling": "\(m.routedScaling)", "sequenceLength": "\(m.sequenceLength)",
            "microBatchSize": "\(m.microBatchSize)", "normEpsilon": "\(m.normEpsilon)",
        ]
    }

    public static func describe(_ t: TrainingConfiguration, _ b: ExpertBalancing) -> [String: String] {
        [
            "steps": "\(t.steps)", "microBatches": "\(t.microBatches)", "learningRate": "\(t.learningRate)",
            "minimumLearningRate": "\(t.minimumLearningRate)", "warmupSteps": "\(t.warmupSteps)",
            "weightDecay": "\(t.weightDecay)", "beta1": "\(t.beta1)", "beta2": "\(t.beta2)", "clipNorm": "\(t.clipNorm)",
            "eplbPolicy": b.policy.rawValue, "loadDecay": "\(b.loadDecay)", "rebalanceEvery": "\(b.rebalanceEvery)",
            "routerBiasSpeed": "\(b.routerBiasSpeed)",
        ]
    }

    /// A run's manifest before any shard is written.
    public init(configuration c: PipelineConfiguration, model: ModelConfiguration, training: TrainingConfiguration,
                balancing: ExpertBalancing, step: Int, seed: UInt64) {
        format = Self.format
        self.step = step
        schedule = c.kind.rawValue
        stagesPerRank = c.stagesPerRank
        pipelineRanks = c.pipelineRanks
        expertParallel = c.expertParallel
        microBatches = c.microBatches
        replicas = c.replicas
        rankOrder = c.rankOrder
        self.seed = seed
        self.model = Self.describe(model)
        self.training = Self.describe(training, balancing)
        shards = [:]
    }

    /// The grid the checkpoint was written on: its world rank of each (pp, ep) names the shard.
    public var savedGrid: GridShape {
        GridShape(pipeline: pipelineRanks, expert: expertParallel, order: rankOrder ?? .pipeline)
    }

    /// The `train` flag that sets each field of `model` and `training` whose value is the flag's
    /// (`moeLayers`, `sharedExpert` and `microBatches` are spelt apart; the rest have no flag).
    static let flags: [String: String] = [
        "hidden": "--hidden", "heads": "--heads", "layers": "--layers", "ffnHidden": "--ffn-hidden",
        "experts": "--experts", "expertHidden": "--expert-hidden", "topK": "--top-k", "groups": "--groups",
        "topKGroups": "--topk-groups", "scoring": "--scoring", "sequenceLength": "--seq-len",
        "microBatchSize": "--micro-batch-size", "learningRate": "--lr", "minimumLearningRate": "--min-lr",
        "warmupSteps": "--warmup", "weightDecay": "--weight-decay", "clipNorm": "--clip",
        "eplbPolicy": "--eplb-policy", "loadDecay": "--load-decay", "rebalanceEvery": "--rebalance-every",
        "routerBiasSpeed": "--router-bias-speed",
    ]

    /// Why a run described by `run` cannot resume from this checkpoint (nil when it can): each
    /// mismatch named by the flag that sets it, with both values, then the flags that would make
    /// this run fit. The model, the seed, the optimizer and the micro-batches a step (M x EP) must
    /// stay; the layout may change (schedule, PP, V, EP, rank order: `layoutChange`), and so may
    /// the number of steps.
    public func mismatch(with run: CheckpointManifest) -> String? {
        var reasons: [String] = [], fits: [String] = []
        /// A field set by `flag` (nil: by none) differs: `mine` is the checkpoint's value.
        func differs(_ name: String, _ mine: String, _ theirs: String, flag: String?) {
            reasons.append("\(flag ?? name) \(mine), this run \(theirs)")
            if let flag { fits.append("\(flag) \(mine)") }
        }
        if format != run.format { reasons.append("format \(format), this program writes \(run.format)") }
        if rankOrder == .mirror && pipelineRanks % 2 != 0 { reasons.append("rank order mirror on an odd PP \(pipelineRanks), which no run writes") }
        if seed != run.seed { differs("seed", "\(seed)", "\(run.seed)", flag: "--seed") }
        // The micro-batches a step are the data of a step: M x EP, whatever the layout.
        let total = microBatches * expertParallel, theirs = run.microBatches * run.expertParallel
        if total != theirs {
            if expertParallel == run.expertParallel {
                differs("micro-batches", "\(microBatches)", "\(run.microBatches)", flag: "--micro-batches")
            } else {
                reasons.append("micro-batches a step (--micro-batches x EP) \(total) (\(microBatches) x EP \(expertParallel)), this run \(theirs) (\(run.microBatches) x EP \(run.expertParallel))")
                if total % run.expertParallel == 0 { fits.append("--micro-batches \(total / run.expertParallel)") }
            }
        }
        for key in Set(model.keys).union(run.model.keys).sorted() where model[key] != run.model[key] {
            let (mine, theirs) = (model[key] ?? "-", run.model[key] ?? "-")
            switch key {
            case "moeLayers":
                reasons.append("MoE blocks \(mine.isEmpty ? "none" : mine), this run \(theirs.isEmpty ? "none" : theirs)")
                if let dense = denseLayers { fits.append("--dense-layers \(dense)") }
            case "sharedExpert":
                let flag = { (value: String) in value == "true" ? "--shared-expert" : "--no-shared-expert" }
                reasons.append("\(flag(mine)), this run \(flag(theirs))")
                fits.append(flag(mine))
            default:
                differs("model \(key)", mine, theirs, flag: Self.flags[key])
            }
        }
        // `steps` may grow: a resumed run can train longer (its learning-rate schedule then spans the new total).
        for key in Set(training.keys).union(run.training.keys).sorted() where key != "steps" && training[key] != run.training[key] {
            // The micro-batches a step: compared above, over the EP group.
            guard key != "microBatches" else { continue }
            differs(key, training[key] ?? "-", run.training[key] ?? "-", flag: Self.flags[key])
        }
        guard !reasons.isEmpty else { return nil }
        let advice = fits.isEmpty ? "" : ". It fits with \(fits.joined(separator: " ")) (or train afresh with another --checkpoint-dir)"
        return reasons.joined(separator: "; ") + advice
    }

    /// The `train` flags that set the checkpoint's model, optimizer and balancing, with its values,
    /// in the help's order, then its seed: what a resume repeats (fields no flag sets are left out;
    /// MoE blocks that `--dense-layers` cannot give are named as such).
    public var resumeFlags: [String] {
        let modelKeys = ["hidden", "heads", "layers", "moeLayers", "ffnHidden", "experts", "expertHidden", "topK", "groups", "topKGroups",
                         "sharedExpert", "scoring", "sequenceLength", "microBatchSize"]
        let trainingKeys = ["learningRate", "minimumLearningRate", "warmupSteps", "weightDecay", "clipNorm", "eplbPolicy", "loadDecay",
                            "rebalanceEvery", "routerBiasSpeed"]
        var flags: [String] = []
        for key in modelKeys {
            guard let value = model[key] else { continue }
            switch key {
            case "moeLayers": flags.append(denseLayers.map { "--dense-layers \($0)" } ?? "(MoE blocks \(value.isEmpty ? "none" : value))")
            case "sharedExpert": flags.append(value == "true" ? "--shared-expert" : "--no-shared-expert")
            default: if let flag = Self.flags[key] { flags.append("\(flag) \(value)") }
            }
        }
        for key in trainingKeys { if let value = training[key], let flag = Self.flags[key] { flags.append("\(flag) \(value)") } }
        return flags + ["--seed \(seed)"]
    }

    /// The layout the checkpoint was written on: "DualPipe, PP 2 x EP 2", "Interleaved 1F1B (V 3),
    /// PP 2 x EP 1" where the schedule lets V be chosen.
    public var layoutTitle: String {
        let kind = ScheduleKind(rawValue: schedule)
        let v = kind?.isLooped == true ? writtenStagesPerRank.map { " (V \($0))" } ?? "" : ""
        return "\(kind?.title ?? schedule)\(v), PP \(pipelineRanks) x EP \(expertParallel)"
    }

    /// V as the run had it: older manifests lack it, and then it was the schedule's fixed V (nil
    /// for a schedule this program does not know).
    private var writtenStagesPerRank: Int? {
        stagesPerRank ?? ScheduleKind(rawValue: schedule).map(ScheduleConfiguration.defaultStagesPerRank)
    }

    /// How the checkpoint's layout differs from `run`'s, as the resume says it; nil where the
    /// schedule, PP, V and EP are the same, and every rank reads its own shard and goes on bit for
    /// bit (the rank order may differ: shards are found by pipeline and EP rank).
    public func layoutChange(to run: PipelineConfiguration) -> String? {
        let kind = ScheduleKind(rawValue: schedule), v = writtenStagesPerRank ?? 1
        let sameStages = kind == run.kind && v == run.stagesPerRank && pipelineRanks == run.pipelineRanks
        if sameStages && expertParallel == run.expertParallel { return nil }
        if sameStages { return "written on EP \(expertParallel): experts placed anew" }
        let stages = kind.flatMap { try? ScheduleConfiguration(kind: $0, ranks: pipelineRanks, microBatches: microBatches, stagesPerRank: v).stages }
        let named = { (n: Int?) in n == 1 ? "one stage" : "\(n.map(String.init) ?? "?") stages" }
        let cut = stages == run.schedule.stages ? "the same \(named(stages)) on other ranks" : "its \(named(stages)) re-cut into \(run.schedule.stages)"
        return "written on \(layoutTitle): \(cut), experts placed anew"
    }

    /// `--dense-layers` of the checkpoint's model, when its MoE blocks are the last ones (as that
    /// flag makes them).
    private var denseLayers: Int? {
        guard let layers = model["layers"].flatMap(Int.init), let text = model["moeLayers"] else { return nil }
        let moe = text.isEmpty ? [] : text.split(separator: ",").compactMap { Int($0) }
        let dense = layers - moe.count
        return moe == Array(dense..<layers) ? dense : nil
    }
}
