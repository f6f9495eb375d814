import Foundation
import Model

/// What a checkpoint is, written by rank 0 after every shard is on disk: a checkpoint folder
/// without its manifest is not a checkpoint. A resumed run must match it.
public struct CheckpointManifest: Codable, Equatable, Sendable {
    public static let format = 1

    public var format: Int
    /// The next step to run: the checkpoint holds the state after steps 0..<step.
    public var step: Int
    public var schedule: String
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

    /// Why a run described by `run` cannot resume from this checkpoint (nil when it can), the
    /// mismatching fields named with both values. A different EP size is allowed (`expertParallel`
    /// and the micro-batches per EP rank it implies): the experts are placed anew. So is another
    /// number of steps.
    public func mismatch(with run: CheckpointManifest) -> String? {
        var reasons: [String] = []
        if format != run.format { reasons.append("format \(format), this program writes \(run.format)") }
        if schedule != run.schedule { reasons.append("schedule \(schedule), this run \(run.schedule)") }
        if pipelineRanks != run.pipelineRanks { reasons.append("PP \(pipelineRanks), this run PP \(run.pipelineRanks)") }
        if rankOrder == .mirror && pipelineRanks % 2 != 0 { reasons.append("rank order mirror on an odd PP \(pipelineRanks), which no run writes") }
        if seed != run.seed { reasons.append("seed \(seed), this run \(run.seed)") }
        if expertParallel == run.expertParallel && microBatches != run.microBatches {
            reasons.append("\(microBatches) micro-batches per EP rank, this run \(run.microBatches)")
        }
        for key in Set(model.keys).union(run.model.keys).sorted() where model[key] != run.model[key] {
            reasons.append("model \(key) \(model[key] ?? "-"), this run \(run.model[key] ?? "-")")
        }
        // `steps` may grow: a resumed run can train longer (its learning-rate schedule then spans the new total).
        for key in Set(training.keys).union(run.training.keys).sorted() where key != "steps" && training[key] != run.training[key] {
            reasons.append("\(key) \(training[key] ?? "-"), this run \(run.training[key] ?? "-")")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}
