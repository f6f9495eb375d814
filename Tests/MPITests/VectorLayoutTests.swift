import Testing
@testable import MPI

@Suite struct VectorLayoutTests {
    @Test func displacementsAreTheExclusivePrefixSum() throws {
        let layout = try VectorLayout(counts: [3, 0, 2, 0, 5], ranks: 5, role: "send")
        #expect(layout.counts == [3, 0, 2, 0, 5])
        #expect(layout.displacements == [0, 3, 3, 5, 5])
        #expect(layout.total == 10)
    }

    @Test func allZeroCountsDescribeAnEmptyBuffer() throws {
        let layout = try VectorLayout(counts: [0, 0, 0], ranks: 3, role: "send")
        #expect(layout.displacements == [0, 0, 0])
        #expect(layout.total == 0)
        try layout.requireLength(0, role: "send")
    }

    @Test func wrongNumberOfCountsIsRefusedWithBothNumbers() {
        #expect(throws: MPIUsageError("send counts: need one count per rank (4), got 3")) {
            try VectorLayout(counts: [1, 2, 3], ranks: 4, role: "send")
        }
    }

    @Test func negativeCountIsRefusedNamingTheRank() {
        #expect(throws: MPIUsageError("receive counts: count for rank 1 is -2; counts must be >= 0")) {
            try VectorLayout(counts: [1, -2], ranks: 2, role: "receive")
        }
    }

    @Test func totalBeyondMPIIntIsRefused() {
        #expect(throws: MPIUsageError.self) {
            try VectorLayout(counts: [Int(Int32.max), 1], ranks: 2, role: "send")
        }
    }

    @Test func bufferLengthMustMatchTheCounts() throws {
        let layout = try VectorLayout(counts: [2, 2], ranks: 2, role: "send")
        #expect(throws: MPIUsageError("send buffer has 3 elements but its counts add up to 4")) {
            try layout.requireLength(3, role: "send")
        }
    }
}
