import ArgumentParser
import Testing
@testable import dualpipe

/// A misspelt flag is reported before a refusal of the other flags' values, which may be
/// judged without the value the misspelt flag meant to give.
@Suite struct UnknownArgumentsFirstTests {
    private func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try UnknownArgumentsFirst.parse(arguments)
            return nil
        } catch {
            return DualPipeCommand.message(for: error)
        }
    }

    @Test func aMisspeltFlagComesBeforeAnOutOfRangeValue() {
        #expect(refusal(["train", "--schedul", "zbv", "--steps", "0"]) == "Unknown option '--schedul'. Did you mean '--schedule'?")
        #expect(refusal(["simulate", "--ranks", "2", "-m", "3", "--cost-ff", "1"]) == "Unknown option '--cost-ff'. Did you mean '--cost-f'?")
    }

    @Test func withoutOneTheValueIsRefusedAsBefore() {
        #expect(refusal(["train", "--steps", "0"]) == "--steps must be at least 1, got 0")
        #expect(refusal(["simulate", "--ranks", "2", "-m", "3"])?.hasPrefix("-m/--micro-batches 3: DualPipe needs an even number") == true)
        #expect(refusal(["train", "--steps", "2"]) == nil)
        #expect(UnknownArgumentsFirst.validates)
    }
}
