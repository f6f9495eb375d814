import Foundation
import Testing
@testable import Model

/// The limits and the memory estimate of ModelConfiguration.validate (docs/inputs.md): absurd
/// values are refused by rule, never trapped on or allocated.
@Suite struct ConfigurationLimitTests {
    private func message(_ c: ModelConfiguration, memory: Int? = nil) -> String? {
        do {
            try c.validate(memory: memory.map { MemoryLimit(bytes: $0) })
            return nil
        } catch {
            return error.description
        }
    }

    @Test func zeroLayersSaysLayers() {
        #expect(message(ModelConfiguration(layers: 0, moeLayers: [])) == "layers 0: a model needs at least 1 layer (transformer block)")
    }

    @Test func everySizeMustBeAtLeastOne() {
        #expect(message(ModelConfiguration(hidden: 0))?.hasPrefix("hidden 0: it must be at least 1") == true)
        #expect(message(ModelConfiguration(heads: -3))?.hasPrefix("heads -3: it must be at least 1") == true)
        #expect(message(ModelConfiguration(sequenceLength: 0))?.hasPrefix("sequence length 0") == true)
        #expect(message(ModelConfiguration(microBatchSize: -1))?.hasPrefix("micro-batch size -1") == true)
        #expect(message(ModelConfiguration(experts: 0, topK: 0, groups: 1, topKGroups: 1))?.hasPrefix("experts 0") == true)
    }

    @Test func absurdValuesAreRefusedByTheirLimitWithoutTrapping() {
        // 4 x hidden would overflow: the default ffn width saturates and the limit refuses it.
        let huge = ModelConfiguration(hidden: Int.max, heads: 1)
        #expect(huge.ffnHidden == Int.max)
        #expect(message(huge) == "hidden \(Int.max) exceeds the limit of \(ModelLimits.width) (docs/inputs.md)")
        // A giant layer count does not build a giant set of MoE layers before it is refused.
        let deep = ModelConfiguration(layers: Int.max)
        #expect(deep.moeLayers.count == ModelLimits.layers)
        #expect(message(deep) == "layers \(Int.max) exceeds the limit of \(ModelLimits.layers) (docs/inputs.md)")
        #expect(message(ModelConfiguration(experts: 1_000_000, groups: 1, topKGroups: 1))
                == "experts 1000000 exceeds the limit of \(ModelLimits.experts) (docs/inputs.md)")
        #expect(message(ModelConfiguration(sequenceLength: 1 << 40))?.contains("exceeds the limit") == true)
    }

    @Test func theParameterCountIsExact() throws {
        for c in [ModelConfiguration(),
                  ModelConfiguration(hidden: 16, heads: 2, layers: 3, moeLayers: [2], ffnHidden: 24, experts: 6, expertHidden: 8,
                                     topK: 2, groups: 3, topKGroups: 2, sharedExpert: false, sequenceLength: 8, microBatchSize: 2)] {
            let stage = Stage(index: 0, partition: try StagePartition(layers: c.layers, stages: 1), configuration: c, seed: 1)
            #expect(c.memoryEstimate.parameterCount == Double(stage.parameterCount))
            #expect(c.memoryEstimate.parameters == 16 * Double(stage.parameterCount))
        }
    }

    /// Each stage of a partition counts exactly its own parameters (embedding on the first, head on
    /// the last), and the stages' activations add up to the whole model's.
    @Test func aStageCountsItsOwnShare() throws {
        let c = ModelConfiguration(hidden: 16, heads: 2, layers: 4, moeLayers: [1, 2, 3], ffnHidden: 24, experts: 6, expertHidden: 8,
                                   topK: 2, groups: 3, topKGroups: 2, sequenceLength: 8, microBatchSize: 2)
        let whole = c.memoryEstimate
        for stages in [1, 2, 4] {
            let partition = try StagePartition(layers: 4, stages: stages)
            let estimates = (0..<stages).map { c.memoryEstimate(ofStage: $0, in: partition) }
            for s in 0..<stages {
                let built = Stage(index: s, partition: partition, configuration: c, seed: 1)
                #expect(estimates[s].parameterCount == Double(built.parameterCount), "stage \(s) of \(stages)")
                #expect(estimates[s].transient == whole.transient)
            }
            #expect(estimates.map(\.parameterCount).reduce(0, +) == whole.parameterCount)
            #expect(abs(estimates.map(\.activations).reduce(0, +) - whole.activations) < 1e-6 * whole.activations)
        }
        // An EP rank's slots replace the experts' weights: 3 x hidden x expert hidden each, per MoE block.
        let partition = try StagePartition(layers: 4, stages: 2)
        let fewer = c.memoryEstimate(ofStage: 1, in: partition, expertSlots: 2).parameterCount
        #expect(c.memoryEstimate(ofStage: 1, in: partition).parameterCount - fewer == 2 * 4 * 3 * 16 * 8)
    }

    @Test func activationsGrowWithTokensAndTheAttentionSquare() {
        let base = ModelConfiguration().memoryEstimate.activations
        let twiceTheSequences = ModelConfiguration(microBatchSize: 8).memoryEstimate.activations
        #expect(abs(twiceTheSequences / base - 2) < 1e-9)
        // Doubling the sequence length doubles the rows and quadruples the [T, T] scores.
        let longer = ModelConfiguration(sequenceLength: 256).memoryEstimate.activations
        #expect(longer > 2 * base)
    }

    @Test func aModelThatDoesNotFitIsRefusedWithTheEstimate() throws {
        let c = ModelConfiguration(hidden: 100_000, heads: 4)
        let text = try #require(message(c, memory: 24 << 30))
        #expect(text.hasPrefix("the model (hidden 100000, 4 layers"))
        #expect(text.contains("needs about 16260.8 GiB to train") && text.contains("this machine has 24.0 GiB (MemTotal)"))
        // The default model fits in 256 MiB; nothing is refused without a memory figure.
        #expect(message(ModelConfiguration(), memory: 256 << 20) == nil)
        #expect(message(c, memory: nil) == nil)
    }

    /// A cgroup's limit, or an ancestor's, caps what the process may use: v2's memory.max ("max":
    /// none) and v1's memory.limit_in_bytes (near 2^63: none); the lowest on the path wins.
    @Test func theLowestCgroupLimitOnThePathIsTheLimit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: (root + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: true, encoding: .utf8)
        }
        try write("/memory.max", "max\n")
        try write("/slurm/memory.max", "max\n")
        try write("/slurm/job_12/memory.max", "1073741824\n")
        try write("/slurm/job_12/step_0/memory.max", "max\n")
        let v2 = PhysicalMemory.cgroupLimit(procSelfCgroup: "0::/slurm/job_12/step_0\n", root: root)
        #expect(v2 == MemoryLimit(bytes: 1 << 30, cgroup: "/slurm/job_12"))
        #expect(v2?.source == "the memory limit of cgroup /slurm/job_12")
        try write("/memory/memory.limit_in_bytes", "9223372036854771712\n")
        try write("/memory/docker/abc/memory.limit_in_bytes", "536870912\n")
        let v1 = PhysicalMemory.cgroupLimit(procSelfCgroup: "5:cpuacct,cpu:/docker/abc\n4:memory:/docker/abc\n", root: root)
        #expect(v1 == MemoryLimit(bytes: 1 << 29, cgroup: "/docker/abc"))
        #expect(v1?.source == "the memory limit of cgroup /docker/abc")
        #expect(PhysicalMemory.cgroupLimit(procSelfCgroup: "4:memory:/\n", root: root) == nil)
        #expect(PhysicalMemory.cgroupLimit(procSelfCgroup: "0::/elsewhere\n", root: root) == nil)
        #expect(PhysicalMemory.cgroupLimit(procSelfCgroup: nil, root: root) == nil)
    }

    @Test func physicalMemoryReadsMemTotal() {
        let total = PhysicalMemory.total
        #expect(total == nil || total! > 1 << 26)
        #expect(PhysicalMemory.formatted(1.5 * 1_073_741_824) == "1.5 GiB")
        #expect(PhysicalMemory.formatted(3 * 1_048_576) == "3.0 MiB")
    }
}
