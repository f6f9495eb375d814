import Testing
@testable import dualpipe

/// Slurm's compressed list of tasks per node, read for the node a rank is on.
@Suite struct IdleYieldTests {
    @Test func aPlainCount() {
        #expect(IdleYield.tasksOnNode(0, of: "4") == 4)
        #expect(IdleYield.tasksOnNode(1, of: "4") == nil)
    }

    @Test func repeatedCountsAndLists() {
        let list = "2(x3),1,5(x2)"
        #expect((0..<7).map { IdleYield.tasksOnNode($0, of: list) } == [2, 2, 2, 1, 5, 5, nil])
    }

    @Test func malformedListsAreNotRead() {
        for list in ["", "x", "2(3)", "2(x3", "2(xa),1", "-"] {
            #expect(IdleYield.tasksOnNode(0, of: list) == nil, "\(list)")
        }
    }

    @Test func mpirunsLocalSizeComesFirst() {
        #expect(IdleYield.ranksOnThisNode(["OMPI_COMM_WORLD_LOCAL_SIZE": "3", "SLURM_STEP_TASKS_PER_NODE": "8", "SLURM_NODEID": "0"]) == 3)
        #expect(IdleYield.ranksOnThisNode(["SLURM_STEP_TASKS_PER_NODE": "1,3(x2)", "SLURM_NODEID": "2"]) == 3)
        #expect(IdleYield.ranksOnThisNode([:]) == nil)
    }
}
