import Testing
@testable import dualpipe

/// `bench eplb` times a hierarchical and a global row; groups the nodes do not divide would make
/// EPLB place the first globally too, under the wrong label.
@Suite struct BenchEPLBShapeTests {
    @Test func nodesThatDoNotDivideTheGroupsAreRefused() {
        let error = #expect(throws: (any Error).self) { try BenchEPLBCommand.parse(["--groups", "3"]) }
        #expect(BenchEPLBCommand.message(for: error!)
                == "--groups 3 with --nodes 4: the hierarchical case needs the nodes to divide the groups (otherwise EPLB places globally, the other row)")
        #expect(throws: (any Error).self) { try BenchEPLBCommand.parse(["--groups", "8", "--nodes", "3"]) }
    }

    @Test func dividingNodesAreAccepted() throws {
        _ = try BenchEPLBCommand.parse([])
        _ = try BenchEPLBCommand.parse(["--groups", "4", "--nodes", "2"])
        _ = try BenchEPLBCommand.parse(["--groups", "16", "--nodes", "16"])
    }
}

/// `bench model` names its own flags in a refused shape, and the model it was building.
@Suite struct BenchModelInputTests {
    @Test func aBadSequenceIsNamedByItsFlag() {
        let error = #expect(throws: (any Error).self) { try BenchModelCommand.parse(["--seq-len", "0"]) }
        #expect(BenchModelCommand.message(for: error!) == "default h128: --seq-len 0: it must be at least 1")
    }
}
