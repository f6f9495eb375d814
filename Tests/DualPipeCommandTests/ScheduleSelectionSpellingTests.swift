import Testing
@testable import dualpipe

/// `schedule` and `simulate` take `train`'s words for the schedule and its pipeline ranks, so a
/// line copied from a training command selects what it trains (before, `--schedule zbv` was
/// refused only after the default DualPipe had been judged against the other flags).
@Suite struct ScheduleSelectionSpellingTests {
    @Test func trainsWordsSelectTheSame() throws {
        let trainWords = try ScheduleCommand.parse(["--schedule", "zbv", "--pp", "2", "-m", "4"]).selection
        let ownWords = try ScheduleCommand.parse(["--kind", "zbv", "--ranks", "2", "-m", "4"]).selection
        #expect(trainWords.kind == "zbv" && trainWords.ranks == 2)
        #expect(try trainWords.configuration() == ownWords.configuration())
        let simulated = try SimulateCommand.parse(["--schedule", "1f1b", "--pp", "4"]).selection
        #expect(simulated.kind == "1f1b" && simulated.ranks == 4)
    }

    /// ArgumentParser does not say which of an option's names was typed, so a refusal names them
    /// all: a user who wrote `--schedule` or `--pp` finds that word in the message.
    @Test func refusalsNameEverySpelling() throws {
        for (arguments, named) in [(["--schedule", "foo"], "--kind/--schedule foo:"),
                                   (["--pp", "3"], "-n/--ranks/--pp 3:"),
                                   (["--pp", "4", "-m", "6"], "-n/--ranks/--pp 4, -m/--micro-batches 6:")] {
            do {
                _ = try ScheduleCommand.parse(arguments)
                Issue.record("\(arguments) accepted")
            } catch {
                let message = ScheduleCommand.message(for: error)
                #expect(message.hasPrefix(named), "\(arguments): \(message)")
            }
        }
    }
}
