import MPI

/// This rank's place in the PP x EP grid with the communicators each kind of traffic uses.
/// Every rank of the world must create it together (the splits are collective).
public final class RankGrid {
    public let shape: GridShape
    public let world: Communicator
    /// The ranks with this rank's EP index, ranked by pipeline index: the schedule's point-to-point.
    public let pipeline: Communicator
    /// The ranks with this rank's pipeline index, ranked by EP index: data parallel in this
    /// runtime, and the expert all-to-all once experts are sharded.
    public let expert: Communicator
    /// Every rank that holds this rank's stages (DualPipe's mirror pair times the EP group, or the
    /// EP group): where gradients are summed.
    public let replicas: Communicator
    public let nodes: NodeLayout

    public var pipelineRank: Int { pipeline.rank }
    public var expertRank: Int { expert.rank }

    /// `nodes`: what `RankGrid.nodes(of: world)` returned, where the caller needed the nodes
    /// first (to choose the rank order); nil has the grid learn them.
    public init(world: Communicator, configuration: PipelineConfiguration, nodes known: (NodeLayout, [Int])? = nil) throws {
        shape = configuration.grid
        precondition(world.size == shape.worldSize, "grid \(shape) on a world of \(world.size): validate the configuration first")
        let (pp, ep) = shape.coordinates(of: world.rank)
        self.world = world
        pipeline = try world.split(color: ep, key: pp)!
        expert = try world.split(color: pp, key: ep)!
        replicas = try world.split(color: configuration.replicaGroup(ofPipelineRank: pp), key: world.rank)!
        (nodes, nodeOfRank) = try known ?? Self.nodes(of: world)
    }

    /// The sum over the world of one Double from each rank, added in grid order (pp, then ep),
    /// whatever the rank order and whatever order Open MPI's reduction would add in: the gradient
    /// norm comes out the same bits in every placement of the same grid.
    public func sumInGridOrder(_ value: Double) throws -> Double {
        shape.sumInGridOrder(try world.allgather([value]))
    }

    /// This rank's node and every rank's node index (0..<nodeCount, by lowest rank): collective.
    public static func nodes(of world: Communicator) throws -> (NodeLayout, [Int]) {
        let nodes = try world.splitByNode()
        return (nodes, try world.allgather([nodes.nodeIndex]))
    }

    /// [world ranks] the node index of every rank (0..<nodes.nodeCount, by lowest rank).
    public let nodeOfRank: [Int]

    /// Nodes this rank's EP group spans: what EPLB's hierarchical policy packs over.
    public var expertGroupNodes: Int {
        Set((0..<shape.expert).map { nodeOfRank[shape.worldRank(pipeline: pipelineRank, expert: $0)] }).count
    }

    /// [EP ranks] the node index of each rank of this rank's EP group.
    public var expertGroupNodeOfRank: [Int] {
        (0..<shape.expert).map { nodeOfRank[shape.worldRank(pipeline: pipelineRank, expert: $0)] }
    }

    /// The world rank of this rank's mirror partner: pipeline rank PP-1-pp at the same EP rank.
    public var mirrorPartnerWorldRank: Int {
        shape.worldRank(pipeline: shape.pipeline - 1 - pipelineRank, expert: expertRank)
    }

    /// DualPipe's mirror pairs (pipeline ranks pp and PP-1-pp, which sum the gradients of the two
    /// stages they both hold every step) with ranks on different nodes, as (pp, PP-1-pp)
    /// with pp < PP-1-pp. Empty for the other schedules, which hold one copy of each stage.
    public func mirrorPairsAcrossNodes(_ configuration: PipelineConfiguration) -> [(Int, Int)] {
        guard configuration.kind == .dualpipe else { return [] }
        return shape.mirrorPairsAcrossNodes(nodeOfRank: nodeOfRank)
    }

    /// The EP groups whose ranks are not all on one node (their all-to-all crosses nodes), as
    /// (pipeline rank, the nodes its EP group spans). Empty when every group fits a node.
    public var expertGroupsAcrossNodes: [(pipeline: Int, nodes: [Int])] {
        (0..<shape.pipeline).compactMap { pp in
            let spanned = Set((0..<shape.expert).map { nodeOfRank[shape.worldRank(pipeline: pp, expert: $0)] }).sorted()
            return spanned.count > 1 ? (pp, spanned) : nil
        }
    }
}
