/// The PP x EP rank grid as numbers: world rank = pp * EP + ep. The EP index varies fastest, so
/// consecutive ranks (which a hostfile packs onto one node) form an EP group and its all-to-all
/// stays inside the node while the pipeline's point-to-point crosses nodes.
public struct GridShape: Sendable, Equatable, Hashable {
    /// PP: pipeline ranks.
    public let pipeline: Int
    /// EP: ranks of an expert-parallel group.
    public let expert: Int

    public init(pipeline: Int, expert: Int) {
        precondition(pipeline >= 1 && expert >= 1, "grid \(pipeline) x \(expert) needs both sizes >= 1")
        self.pipeline = pipeline
        self.expert = expert
    }

    public var worldSize: Int { pipeline * expert }

    public func worldRank(pipeline pp: Int, expert ep: Int) -> Int {
        precondition((0..<pipeline).contains(pp) && (0..<expert).contains(ep), "(pp \(pp), ep \(ep)) outside \(pipeline) x \(expert)")
        return pp * expert + ep
    }

    /// (pp, ep) of a world rank.
    public func coordinates(of rank: Int) -> (pipeline: Int, expert: Int) {
        precondition((0..<worldSize).contains(rank), "rank \(rank) outside 0..<\(worldSize)")
        return (rank / expert, rank % expert)
    }
}
