import Foundation
import Testing
import Model
import Tensor

@Suite struct PartitionTests {
    @Test func blocksSplitEvenlyWithEmbeddingFirstAndHeadLast() throws {
        let p = try StagePartition(layers: 8, stages: 4)
        #expect((0..<4).map { p.blocks(of: $0) } == [0..<2, 2..<4, 4..<6, 6..<8])
        #expect((0..<4).map(p.hasEmbedding) == [true, false, false, false])
        #expect((0..<4).map(p.hasHead) == [false, false, false, true])

        let c = ModelConfiguration(hidden: 8, heads: 2, layers: 4, experts: 4, expertHidden: 4, topK: 1, groups: 1,
                                   topKGroups: 1, sequenceLength: 4, microBatchSize: 1)
        let stages = (0..<2).map { Stage(index: $0, partition: try! StagePartition(layers: 4, stages: 2), configuration: c, seed: 1) }
        #expect(stages[0].isFirst && !stages[0].isLast && stages[1].isLast && !stages[1].isFirst)
        #expect(stages.map { $0.blocks.map(\.index) } == [[0, 1], [2, 3]])
        #expect(stages[1].parameterNames.first == "block2.attentionNorm.gain")
    }

    @Test func unevenSplitsAreRejectedWithTheNumbers() {
        #expect(throws: ConfigurationError("6 layers cannot be split evenly into 4 pipeline stages (6 % 4 = 2)")) {
            try StagePartition(layers: 6, stages: 4)
        }
        #expect(throws: ConfigurationError.self) { try StagePartition(layers: 2, stages: 4) }
        #expect(throws: ConfigurationError.self) { try StagePartition(layers: 2, stages: 0) }
    }

    @Test func configurationRulesNameTheValues() {
        var c = ModelConfiguration(hidden: 10, heads: 4)
        #expect(throws: ConfigurationError("hidden 10 must be divisible by heads 4")) { try c.validate() }
        c = ModelConfiguration(experts: 6, groups: 4)
        #expect(throws: ConfigurationError("experts 6 must split evenly into groups 4")) { try c.validate() }
        c = ModelConfiguration(experts: 8, topK: 5, groups: 4, topKGroups: 2)
        #expect(throws: ConfigurationError.self) { try c.validate() }
        #expect(throws: Never.self) { try ModelConfiguration().validate() }
    }
}

@Suite struct DataTests {
    static let corpus = ByteCorpus(bytes: Array((0..<200).map { UInt8($0) }), source: "counting bytes")

    @Test func microBatchesAreAPureFunctionOfSeedStepAndIndex() throws {
        let a = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 16, sequences: 3, seed: 5)
        let b = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 16, sequences: 3, seed: 5)
        let c = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 16, sequences: 3, seed: 6)
        #expect(a.microBatch(step: 2, index: 1) == b.microBatch(step: 2, index: 1))
        #expect(a.microBatch(step: 2, index: 1) != a.microBatch(step: 2, index: 0))
        #expect(a.microBatch(step: 2, index: 1) != a.microBatch(step: 3, index: 1))
        #expect(a.microBatch(step: 2, index: 1) != c.microBatch(step: 2, index: 1))
    }

    @Test func targetsAreTheNextBytesOfContiguousWindows() throws {
        let sampler = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 16, sequences: 3, seed: 5)
        let batch = sampler.microBatch(step: 0, index: 0)
        #expect(batch.tokens.count == 48 && batch.targets.count == 48)
        // The corpus counts 0, 1, 2, ...: each window counts up and each target is its token + 1.
        for s in 0..<3 {
            for t in 0..<16 {
                #expect(batch.targets[s * 16 + t] == batch.tokens[s * 16 + t] + 1)
                if t > 0 { #expect(batch.tokens[s * 16 + t] == batch.tokens[s * 16 + t - 1] + 1) }
            }
        }
        #expect(batch.input.shape == [48] && batch.input.scalars[5] == Float(batch.tokens[5]))
    }

    /// Training windows stay in the head and evaluation windows in the tail: no byte of a held-out
    /// window (target included) is ever a training byte.
    @Test func heldOutTailIsNeverSampledForTraining() throws {
        let split = try CorpusSplit(bytes: 200, sequenceLength: 8)
        #expect(split.training == 0..<190 && split.evaluation == 190..<200) // 5% is 10 bytes >= a 9-byte window
        let train = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 8, sequences: 4, seed: 3, span: split.training)
        let held = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: 8, sequences: 4, seed: 3, span: split.evaluation)
        for step in 0..<50 {
            let t = train.microBatch(step: step, index: 0), e = held.microBatch(step: step, index: 0)
            #expect((t.tokens + t.targets).allSatisfy { $0 < 190 })
            #expect((e.tokens + e.targets).allSatisfy { $0 >= 190 })
        }
        #expect(throws: ConfigurationError("data tiny has 17 bytes, too short for sequence length 8: training and the held-out tail need 9 bytes each, 18 in all")) {
            try CorpusSplit(bytes: 17, sequenceLength: 8, source: "tiny")
        }
    }

    @Test func tooShortOrMissingDataIsRejected() {
        let short = ByteCorpus(bytes: Array("abc".utf8), source: "tiny")
        #expect(throws: ConfigurationError("data tiny has 3 bytes, too short for sequence length 8 (needs at least 9)")) {
            try MicroBatchSampler(corpus: short, sequenceLength: 8, sequences: 1, seed: 1)
        }
        #expect(throws: ConfigurationError("data file /nonexistent/corpus.txt does not exist or cannot be read")) {
            try ByteCorpus(contentsOf: "/nonexistent/corpus.txt")
        }
    }

    @Test func aFileIsReadAsItsBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dualpipe-corpus-\(UInt32.random(in: 0...UInt32.max)).txt").path
        try Data("héllo".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ByteCorpus(contentsOf: path).bytes == Array("héllo".utf8))
    }
}

@Suite struct FlatBufferTests {
    @Test func parametersRoundTripAndNormGainsAreNotDecayed() throws {
        let c = ModelConfiguration(hidden: 8, heads: 2, layers: 2, experts: 4, expertHidden: 4, topK: 1, groups: 1,
                                   topKGroups: 1, sequenceLength: 4, microBatchSize: 1)
        let stage = Stage(index: 0, partition: try StagePartition(layers: 2, stages: 1), configuration: c, seed: 3)
        let flat = stage.flatParameters()
        #expect(flat.count == stage.parameterCount && stage.decayMask().count == flat.count)
        stage.loadParameters(flat.map { $0 * 2 })
        #expect(stage.flatParameters() == flat.map { $0 * 2 })
        stage.loadGradients([Float](repeating: 1, count: flat.count))
        #expect(stage.flatGradients().allSatisfy { $0 == 1 })
        stage.zeroGradients()
        #expect(stage.flatGradients().allSatisfy { $0 == 0 })
        var decays: [String: Bool] = [:]
        stage.visitParameters { decays[$0.name] = $0.decays }
        #expect(decays["block0.attentionNorm.gain"] == false && decays["head.norm.gain"] == false)
        #expect(decays["block0.attention.wqkv"] == true && decays["block1.moe.expert3.down"] == true)
        #expect(Set(stage.parameterNames).count == stage.parameterNames.count)
    }
}
