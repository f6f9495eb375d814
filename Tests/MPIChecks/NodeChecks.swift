import MPI

/// Split by node numbers the nodes consistently with the processor names: ranks on the same node
/// (same name) get the same index, and the count is the number of distinct names.
func nodeCheck(processorName: String, expectedNodes: Int?) -> Check {
    Check(name: "split by node agrees with processor names") { world in
        let layout = try world.splitByNode()
        let names = try world.allgatherv(Array(processorName.utf8)).map { String(decoding: $0, as: UTF8.self) }
        let indices = try world.allgather([layout.nodeIndex])
        try expect(layout.nodeCount == Set(names).count, "node count \(layout.nodeCount), but \(Set(names).count) distinct processor names")
        for peer in 0..<world.size where names[peer] == names[world.rank] {
            try expect(indices[peer] == layout.nodeIndex, "rank \(peer) on the same node has index \(indices[peer]), mine is \(layout.nodeIndex)")
        }
        try expect(layout.node.size == names.filter { $0 == names[world.rank] }.count, "node communicator size \(layout.node.size)")
        if let expectedNodes {
            try expect(layout.nodeCount == expectedNodes, "split by node found \(layout.nodeCount) nodes, expected \(expectedNodes)")
        }
    }
}
