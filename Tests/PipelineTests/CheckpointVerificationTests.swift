import Foundation
import Model
@testable import Pipeline
import Testing

/// `dualpipe checkpoint --verify` reads every shard a manifest lists and names each one that is
/// missing, damaged or not the manifest's.
@Suite struct CheckpointVerificationTests {
    /// A checkpoint of PP 2 x EP 1 in a fresh folder: two small shards and their manifest.
    func written() throws -> (folder: String, manifest: CheckpointManifest) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let configuration = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 2, expertParallel: 1, microBatches: 4,
                                                      model: ModelConfiguration(), worldSize: 2)
        var manifest = CheckpointManifest(configuration: configuration, model: ModelConfiguration(),
                                          training: TrainingConfiguration(steps: 3, microBatches: 4), balancing: ExpertBalancing(), step: 3, seed: 1)
        for rank in 0..<2 {
            var shard = ShardFile()
            shard.add("meta", integers: [3, rank, rank, 0, 1])
            shard.add("stage\(rank).dense", [Float](repeating: Float(rank), count: 100))
            let bytes = shard.encoded(), name = Checkpointer.shardName(rank: rank)
            try ShardFile.writeAtomically(bytes, to: (folder as NSString).appendingPathComponent(name))
            manifest.shards[name] = String(try ShardFile(decoding: bytes, path: name).checksum, radix: 16)
        }
        return (folder, manifest)
    }

    @Test func intactShardsPass() throws {
        let (folder, manifest) = try written()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let verification = Checkpointer.verify(folder, manifest: manifest)
        #expect(verification.shards == 2 && verification.problems.isEmpty)
    }

    @Test func eachBadShardIsNamed() throws {
        let (folder, manifest) = try written()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = (folder as NSString).appendingPathComponent("rank-00000.shard")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: first)))
        bytes[30] ^= 1
        try ShardFile.writeAtomically(bytes, to: first)
        try FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("rank-00001.shard"))
        let problems = Checkpointer.verify(folder, manifest: manifest).problems
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("checkpoint shard \(first): checksum mismatch") == true)
        #expect(problems.last?.hasSuffix("rank-00001.shard is missing or unreadable: No such file or directory") == true)
    }

    /// A shard intact in itself but not the one the manifest lists (another run's, copied in).
    @Test func anotherRunsShardIsNamed() throws {
        let (folder, manifest) = try written()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var other = ShardFile()
        other.add("meta", integers: [4, 1, 1, 0, 1])
        try ShardFile.writeAtomically(other.encoded(), to: (folder as NSString).appendingPathComponent("rank-00001.shard"))
        let problems = Checkpointer.verify(folder, manifest: manifest).problems
        #expect(problems.count == 1 && problems[0].contains("rank-00001.shard is not the one its manifest lists"), "\(problems)")
    }
}
