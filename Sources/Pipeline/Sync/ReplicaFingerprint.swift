import MPI
import Model

/// Checks that every copy of a stage's dense part and of each expert holds the same bits
/// (DualPipe's mirror copies, the EP group's replicas): each rank hashes what it holds, the world
/// gathers the hashes, and anything with two different hashes is reported.
public enum ReplicaFingerprint {
    /// FNV-1a over the bit patterns of every parameter value of `owner` (a stage's dense part, one
    /// expert), in visiting order.
    public static func of(_ owner: some ParameterOwner) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        owner.visitParameters { p in
            for v in p.value.scalars { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
        }
        return hash
    }

    /// Collective over `world`: every rank names what it holds with a hash (each stage's dense
    /// parameters; each expert slot by block and logical expert), and whatever has copies with
    /// different hashes is reported with the world ranks holding each version (empty when all agree).
    public static func mismatches(stages: [Stage], world: Communicator) throws -> [String] {
        var mine: [Int64] = [] // (key, hash) pairs
        for stage in stages {
            var dense = of(DenseParameters(stage)) // and the routing biases, which are state too
            for bias in stage.moeLayers.flatMap(\.routingBias) { dense = (dense ^ UInt64(bias.bitPattern)) &* 0x100_0000_01b3 }
            mine += [Int64(stage.index), Int64(bitPattern: dense)]
            for layer in stage.expertSlots {
                for (k, expert) in layer.experts.enumerated() {
                    let e = layer.phy2log[layer.localSlots.lowerBound + k]
                    mine += [Int64(1 << 32 | layer.block << 16 | e), Int64(bitPattern: of(expert))]
                }
            }
        }
        var versions: [Int64: [Int64: [Int]]] = [:]
        for (rank, pairs) in try world.allgatherv(mine).enumerated() {
            for k in stride(from: 0, to: pairs.count, by: 2) { versions[pairs[k], default: [:]][pairs[k + 1], default: []].append(rank) }
        }
        return versions.keys.sorted().compactMap { key in
            let copies = versions[key]!
            guard copies.count > 1 else { return nil }
            let what = key >> 32 == 0 ? "stage \(key) (dense)" : "block \((key >> 16) & 0xffff) expert \(key & 0xffff)"
            let versions = copies.keys.sorted().map { copies[$0]! }
            // Two slots of one expert on the same rank that disagree put that rank in two versions.
            let inSeveral = Set(versions.flatMap { $0 }.filter { rank in versions.filter { $0.contains(rank) }.count > 1 })
            let within = inSeveral.isEmpty ? "" : "; slots on the same rank disagree (ranks \(inSeveral.sorted()))"
            return "\(what) differs between copies: " + versions.map { "ranks \($0)" }.joined(separator: " vs ") + within
        }
    }
}
