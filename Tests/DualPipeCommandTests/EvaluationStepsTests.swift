import Testing
@testable import dualpipe

/// Which steps `--eval-every` evaluates after.
@Suite struct EvaluationStepsTests {
    func evaluated(_ arguments: [String]) throws -> [Int] {
        let command = try TrainCommand.parse(arguments)
        return (0..<command.steps).filter { command.evaluates(after: $0) }
    }

    @Test func everyKthStepAndTheLast() throws {
        #expect(try evaluated(["--steps", "10", "--eval-every", "4"]) == [3, 7, 9])
        #expect(try evaluated(["--steps", "8", "--eval-every", "4"]) == [3, 7])
        #expect(try evaluated(["--steps", "3", "--eval-every", "1"]) == [0, 1, 2])
    }

    /// A K beyond the run used to evaluate never, silently.
    @Test func aLongerKStillEvaluatesOnceAtTheEnd() throws {
        #expect(try evaluated(["--steps", "200", "--eval-every", "500"]) == [199])
    }

    @Test func zeroNeverEvaluates() throws {
        #expect(try evaluated(["--steps", "10"]) == [])
        #expect(try evaluated(["--steps", "10", "--eval-every", "0"]) == [])
    }
}
