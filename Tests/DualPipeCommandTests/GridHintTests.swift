import Model
import Testing
@testable import dualpipe

/// A grid the defaults chose that does not run is explained: by the micro-batch counts that would
/// run on it where the count is what fails, else by the grids or schedules that would.
@Suite struct GridHintTests {
    private func refusal(_ arguments: [String], worldSize: Int) -> String? {
        do {
            _ = try PipelineRun(options: TrainCommand.parse(arguments)).plan(worldSize: worldSize)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func anOddCountForDualPipeNamesTheEvenOnesBesideIt() throws {
        let message = try #require(refusal(["--micro-batches", "5"], worldSize: 4))
        #expect(message.hasPrefix("DualPipe needs an even number of micro-batches"))
        #expect(message.hasSuffix("(PP 2 x EP 2 is the default split of 4 rank(s); it runs DualPipe with --micro-batches 4 or --micro-batches 6)"))
    }

    @Test func tooFewNamesTheLeastThatRuns() throws {
        let message = try #require(refusal(["--micro-batches", "3", "--ep", "2"], worldSize: 8))
        #expect(message.hasSuffix("(PP 4 is 8 rank(s) / --ep 2; it runs DualPipe with --micro-batches 8)"))
    }

    @Test func aGridNoCountRunsStillNamesTheOtherSchedules() throws {
        let message = try #require(refusal(["--micro-batches", "6"], worldSize: 3))
        #expect(message.contains("no PP x EP of 3 rank(s) runs DualPipe on this model; --schedule dualpipev"))
    }

    @Test func aCountThatRunsIsNotRefused() {
        #expect(refusal(["--micro-batches", "6"], worldSize: 4) == nil)
    }
}

/// `--model mlp` runs PP = the world size: a micro-batch count that fails is answered the same way.
@Suite struct MLPGridHintTests {
    @Test func anOddCountNamesTheEvenOnes() throws {
        let error = #expect(throws: (any Error).self) {
            try MLPRun(options: TrainCommand.parse(["--model", "mlp", "--micro-batches", "5"])).plan(worldSize: 2)
        }
        #expect("\(error!)".hasSuffix("(PP 2 is the world size: --model mlp runs one pipeline rank per MPI rank; it runs DualPipe with --micro-batches 4 or --micro-batches 6)"))
    }
}

/// The search for counts that run stays near the one given: a count far past every limit is
/// answered at once by the limit's rule, with no suggestion and no overflow.
@Suite struct MicroBatchCountsTests {
    @Test func itLooksOnlyWithinReach() {
        var asked: [Int] = []
        #expect(MicroBatchCounts.nearest(to: Int.max) { asked.append($0); return false } == nil)
        #expect(asked.count == MicroBatchCounts.reach)
        #expect(asked.min() == Int.max - MicroBatchCounts.reach)
        #expect(MicroBatchCounts.nearest(to: 5000) { $0 == 3000 } == nil)
        #expect(MicroBatchCounts.nearest(to: 5000) { $0 == 4000 || $0 == 6000 } == "--micro-batches 4000 or --micro-batches 6000")
        #expect(MicroBatchCounts.nearest(to: 1) { $0 % 2 == 0 } == "--micro-batches 2")
    }
}
