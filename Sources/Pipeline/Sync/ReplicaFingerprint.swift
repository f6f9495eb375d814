import MPI
import Model

/// Checks that every copy of a stage holds the same parameters bit for bit (DualPipe's mirror
/// copies, the EP group's replicas): each rank hashes its stages' parameter bits, the world
/// gathers the hashes, and any stage with two different hashes is reported.
public enum ReplicaFingerprint {
    /// FNV-1a over the bit patterns of every parameter value, in visiting order.
    public static func of(_ stage: Stage) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        stage.visitParameters { p in
            for v in p.value.scalars {
                hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3
            }
        }
        return hash
    }

    /// Collective over `world`: the stages whose copies differ, with the world ranks holding
    /// each version (empty when all agree).
    public static func mismatches(stages: [Stage], world: Communicator) throws -> [String] {
        // Two (stage, hash) pairs per rank at most; -1 pads a rank holding one stage.
        var mine: [Int64] = []
        for stage in stages.prefix(2) { mine += [Int64(stage.index), Int64(bitPattern: of(stage))] }
        while mine.count < 4 { mine += [-1, 0] }
        let all = try world.allgather(mine)
        var versions: [Int: [Int64: [Int]]] = [:]
        for rank in 0..<world.size {
            for k in 0..<2 where all[rank * 4 + 2 * k] >= 0 {
                versions[Int(all[rank * 4 + 2 * k]), default: [:]][all[rank * 4 + 2 * k + 1], default: []].append(rank)
            }
        }
        return versions.keys.sorted().compactMap { stage in
            let copies = versions[stage]!
            guard copies.count > 1 else { return nil }
            return "stage \(stage) differs between copies: " + copies.values.map { "ranks \($0)" }.joined(separator: " vs ")
        }
    }
}
