import Testing
@testable import dualpipe

/// Which steps print their line under `--log-every`: every K-th, the run's first and last, and
/// those an evaluation or a checkpoint follows.
@Suite struct LoggedStepsTests {
    func logged(_ arguments: [String], firstStep: Int = 0) throws -> [Int] {
        let command = try TrainCommand.parse(arguments)
        return (firstStep..<command.steps).filter { command.logs(step: $0, firstStep: firstStep) }
    }

    @Test func everyStepByDefault() throws {
        #expect(try logged(["--steps", "4"]) == [0, 1, 2, 3])
    }

    @Test func everyKthStepTheFirstAndTheLast() throws {
        #expect(try logged(["--steps", "23", "--log-every", "5"]) == [0, 4, 9, 14, 19, 22])
        #expect(try logged(["--steps", "23", "--log-every", "5"], firstStep: 11) == [11, 14, 19, 22])
    }

    @Test func stepsWithAnEvaluationOrACheckpointAfterThem() throws {
        #expect(try logged(["--steps", "23", "--log-every", "10", "--eval-every", "7"]) == [0, 6, 9, 13, 19, 20, 22])
        let folder = "/tmp/dualpipe-logged-steps-\(UInt32.random(in: 0...UInt32.max))"
        #expect(try logged(["--steps", "23", "--log-every", "10", "--checkpoint-dir", folder, "--checkpoint-every", "11"]) == [0, 9, 10, 19, 21, 22])
    }
}
