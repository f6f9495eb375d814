/// Where a rank sits among the machines of the job: its node's ranks, and which node it is.
public struct NodeLayout {
    /// The ranks on this rank's node.
    public let node: Communicator
    /// This node's number, 0..<nodeCount, ordered by the lowest rank on each node.
    public let nodeIndex: Int
    /// How many nodes the communicator spans.
    public let nodeCount: Int
}

extension Communicator {
    /// Splits by node (shared memory) and numbers the nodes. Every rank must call it.
    public func splitByNode() throws -> NodeLayout {
        let node = try splitSharedMemory()
        // The first rank of every node joins a communicator of node leaders; its rank there is
        // the node's index, and its size is the node count. Leaders tell their node.
        let leaders = try split(color: node.rank == 0 ? 0 : nil, key: rank)
        var indexAndCount = [leaders?.rank ?? 0, leaders?.size ?? 0]
        try node.broadcast(&indexAndCount, root: 0)
        return NodeLayout(node: node, nodeIndex: indexAndCount[0], nodeCount: indexAndCount[1])
    }
}
