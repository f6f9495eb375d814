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
}
