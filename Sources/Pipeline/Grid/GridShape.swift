/// The PP x EP rank grid as numbers: world rank = slot * EP + ep, where a pipeline rank's slot is
/// its place in the rank order. The EP index varies fastest, so consecutive ranks (which a
/// hostfile packs onto one node) form an EP group and its all-to-all stays inside the node while
/// the pipeline's point-to-point crosses nodes.
public struct GridShape: Sendable, Equatable, Hashable {
    /// Which pipeline rank takes which block of EP consecutive world ranks.
    public enum RankOrder: String, Sendable, CaseIterable, Codable {
        /// pp 0, 1, 2, ...: pipeline neighbours side by side (slot = pp).
        case pipeline
        /// pp 0, PP-1, 1, PP-2, ...: each DualPipe mirror pair side by side, so a node that holds
        /// a multiple of 2 x EP ranks holds whole pairs and their gradient sums stay inside it.
        case mirror
    }

    /// PP: pipeline ranks.
    public let pipeline: Int
    /// EP: ranks of an expert-parallel group.
    public let expert: Int
    public let order: RankOrder

    public init(pipeline: Int, expert: Int, order: RankOrder = .pipeline) {
        precondition(pipeline >= 1 && expert >= 1, "grid \(pipeline) x \(expert) needs both sizes >= 1")
        precondition(order == .pipeline || pipeline % 2 == 0, "the mirror order pairs pp with PP-1-pp: PP \(pipeline) must be even")
        self.pipeline = pipeline
        self.expert = expert
        self.order = order
    }

    public var worldSize: Int { pipeline * expert }

    public func worldRank(pipeline pp: Int, expert ep: Int) -> Int {
        precondition((0..<pipeline).contains(pp) && (0..<expert).contains(ep), "(pp \(pp), ep \(ep)) outside \(pipeline) x \(expert)")
        return slot(ofPipelineRank: pp) * expert + ep
    }

    /// (pp, ep) of a world rank.
    public func coordinates(of rank: Int) -> (pipeline: Int, expert: Int) {
        precondition((0..<worldSize).contains(rank), "rank \(rank) outside 0..<\(worldSize)")
        return (pipelineRank(ofSlot: rank / expert), rank % expert)
    }

    /// The place of pipeline rank `pp` in the rank order.
    public func slot(ofPipelineRank pp: Int) -> Int {
        switch order {
        case .pipeline: pp
        case .mirror: pp < pipeline / 2 ? 2 * pp : 2 * (pipeline - 1 - pp) + 1
        }
    }

    /// The pipeline rank in place `slot` of the rank order.
    public func pipelineRank(ofSlot slot: Int) -> Int {
        switch order {
        case .pipeline: slot
        case .mirror: slot % 2 == 0 ? slot / 2 : pipeline - 1 - slot / 2
        }
    }
}

extension GridShape {
    /// The mirror pairs (pipeline ranks pp and PP-1-pp, pp < PP-1-pp) whose ranks lie on more than
    /// one node in this order, given every world rank's node.
    public func mirrorPairsAcrossNodes(nodeOfRank: [Int]) -> [(Int, Int)] {
        precondition(nodeOfRank.count == worldSize, "\(nodeOfRank.count) node indices for \(worldSize) ranks")
        return (0..<(pipeline / 2)).compactMap { r in
            let nodes = Set([r, pipeline - 1 - r].flatMap { p in (0..<expert).map { nodeOfRank[worldRank(pipeline: p, expert: $0)] } })
            return nodes.count > 1 ? (r, pipeline - 1 - r) : nil
        }
    }

    /// `values` (one per world rank) added in grid order, pp then ep: the same bits in every rank
    /// order, where adding in world-rank order would not be (floating-point addition does not
    /// associate).
    public func sumInGridOrder(_ values: [Double]) -> Double {
        precondition(values.count == worldSize, "\(values.count) values for \(worldSize) ranks")
        var sum = 0.0
        for pp in 0..<pipeline {
            for ep in 0..<expert { sum += values[worldRank(pipeline: pp, expert: ep)] }
        }
        return sum
    }
}

extension GridShape.RankOrder {
    /// The order a DualPipe run takes when the user names none: mirror where the pipeline order
    /// would leave some mirror pair across nodes and the mirror order leaves fewer (each such pair
    /// sums its two stages' gradients over the network every step), pipeline otherwise
    /// and for the other schedules, which hold one copy of each stage. Every rank decides alike
    /// from the same node indices.
    public static func automatic(isDualPipe: Bool, pipeline: Int, expert: Int, nodeOfRank: [Int]) -> Self {
        guard isDualPipe, pipeline % 2 == 0 else { return .pipeline }
        let inPipelineOrder = GridShape(pipeline: pipeline, expert: expert, order: .pipeline).mirrorPairsAcrossNodes(nodeOfRank: nodeOfRank)
        let inMirrorOrder = GridShape(pipeline: pipeline, expert: expert, order: .mirror).mirrorPairsAcrossNodes(nodeOfRank: nodeOfRank)
        return inMirrorOrder.count < inPipelineOrder.count ? .mirror : .pipeline
    }
}
