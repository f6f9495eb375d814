import Testing
@testable import dualpipe

/// `schedule --check` and `--compare-trace` print a verdict, not a schedule: the flags that shape a
/// printed schedule are refused beside them, by name, rather than ignored.
@Suite struct ScheduleVerdictFlagTests {
    private func refusal(_ arguments: [String]) -> String? { refusalMessage(of: ScheduleCommand.self, arguments) }

    @Test func outputFlagsBesideAVerdictAreRefused() {
        #expect(refusal(["--check", "/etc/passwd", "--format", "svg"]) == "--format applies to a generated schedule, not to --check (which prints a verdict)")
        #expect(refusal(["--check", "/etc/passwd", "--format", "text"]) == "--format applies to a generated schedule, not to --check (which prints a verdict)")
        #expect(refusal(["--compare-trace", "/etc/passwd", "--output", "/tmp/x.svg"]) == "--output applies to a generated schedule, not to --compare-trace (which prints a verdict)")
        #expect(refusal(["--check", "/etc/passwd", "--compare-trace", "/etc/passwd"]) == "--check and --compare-trace are two separate checks: give one at a time")
    }

    @Test func aGeneratedScheduleTakesThem() throws {
        #expect(refusal(["--format", "json", "--output", "/tmp/schedule.json"]) == nil)
        #expect(try ScheduleCommand.parse([]).format == .text)
        #expect(refusal(["--check", "/etc/passwd"]) == nil)
    }
}
