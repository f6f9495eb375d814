import Testing
@testable import Pipeline
import Schedule

@Suite struct TraceSVGTests {
    /// The measured picture draws the phases after the schedule in grey after each rank's actions,
    /// and its title gives the step with them.
    @Test func thePhasesAfterTheScheduleAreDrawn() throws {
        let schedule = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1)
        let timelines: [[TimelineEvent]] = [
            [TimelineEvent(kind: .compute, name: "F0:0", start: 0, end: 0.010),
             TimelineEvent(kind: .compute, name: "BW0:0", start: 0.030, end: 0.050),
             TimelineEvent(kind: .update, name: "gradient norm", start: 0.050, end: 0.052),
             TimelineEvent(kind: .update, name: "AdamW", start: 0.052, end: 0.060)],
            [TimelineEvent(kind: .compute, name: "F1:0", start: 0.011, end: 0.020),
             TimelineEvent(kind: .compute, name: "BW1:0", start: 0.020, end: 0.029),
             TimelineEvent(kind: .update, name: "AdamW", start: 0.050, end: 0.058)],
        ]
        let svg = try TraceSVG.svg(timelines: timelines, grid: GridShape(pipeline: 2, expert: 1), schedule: schedule)
        let grey = svg.split(separator: "\n").filter { $0.contains("#c4c4c4") }
        // Three phases and the legend's box, in the measured picture only (the simulated one beneath has none).
        #expect(grey.count == 3 + 1)
        #expect(svg.contains("schedule 50 ms, 60 ms with the phases after it (grey)"))
    }
}
