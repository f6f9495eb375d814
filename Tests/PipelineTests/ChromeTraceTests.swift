import Foundation
import Testing
@testable import Pipeline
import Schedule

@Suite struct ChromeTraceTests {
    /// Two ranks' spans written as a trace and read back: each action's compute milliseconds by
    /// kind, a pair's blocked time left out, the waits not counted, and the order of each rank.
    @Test func aTraceGivesBackEachActionsComputeTime() throws {
        let grid = GridShape(pipeline: 2, expert: 1)
        let timelines: [[TimelineEvent]] = [
            [TimelineEvent(kind: .compute, name: "F0:0", start: 0, end: 0.010),
             TimelineEvent(kind: .wait, name: "recv grad(1:0) from 1 tag 3", start: 0.010, end: 0.015, peer: 1, tag: 3),
             TimelineEvent(kind: .compute, name: "B0:0", start: 0.015, end: 0.027),
             TimelineEvent(kind: .compute, name: "W0:0", start: 0.027, end: 0.033)],
            [TimelineEvent(kind: .compute, name: "F1:0", start: 0.011, end: 0.025),
             TimelineEvent(kind: .compute, name: "FB1:1+1:0", start: 0.025, end: 0.065, blocked: 0.004)],
        ]
        let data = try ChromeTrace.json(timelines: timelines, grid: grid, title: "test")
        let ms = try ChromeTrace.computeMilliseconds(of: data)
        let rounded = ms.mapValues { $0.map { ($0 * 1e6).rounded() / 1e6 } }
        #expect(rounded == [.F: [10, 14], .B: [12], .W: [6], .FB: [36]])
        let costs = Costs(measured: ms)
        #expect(abs(costs.forward - 12) < 1e-9 && abs(costs.forwardBackward - 36) < 1e-9)
        #expect(abs(costs.backward - 18) < 1e-9, "BW from B + W where no BW ran")
        #expect(try ChromeTrace.computeOrder(of: data).map(\.actions) == [["F0:0", "B0:0", "W0:0"], ["F1:0", "FB1:1+1:0"]])
    }

    /// The ranks of an EP group run the same actions: each action's time is their mean.
    @Test func eachActionIsTheMeanOverTheRanksThatRanIt() throws {
        let grid = GridShape(pipeline: 1, expert: 2)
        let timelines: [[TimelineEvent]] = [
            [TimelineEvent(kind: .compute, name: "F0:0", start: 0, end: 0.010), TimelineEvent(kind: .compute, name: "BW0:0", start: 0.010, end: 0.030)],
            [TimelineEvent(kind: .compute, name: "F0:0", start: 0, end: 0.014), TimelineEvent(kind: .compute, name: "BW0:0", start: 0.014, end: 0.030)],
        ]
        let spans = try ChromeTrace.computeSpans(of: try ChromeTrace.json(timelines: timelines, grid: grid, title: "test"))
        #expect(spans.map(\.rank) == [0, 0, 1, 1])
        let byAction = ChromeTrace.byAction(spans).mapValues { ($0 * 1e6).rounded() / 1e6 }
        #expect(byAction == [.forward(Chunk(stage: 0, microBatch: 0)): 12, .backward(Chunk(stage: 0, microBatch: 0)): 18])
    }

    /// The phases after the schedule go on a track of their own, category `update`, and count
    /// neither as compute actions nor in the recorder's compute and wait totals.
    @Test func thePhasesAfterTheScheduleAreSpansOfTheirOwn() throws {
        let recorder = StepRecorder()
        recorder.reset(origin: monotonicSeconds(), keepEvents: true)
        recorder.record(.compute, "F0:0", start: recorder.origin, end: recorder.origin + 0.010)
        let sum = recorder.phase("gradient sums") { 7 }
        recorder.phase("AdamW") {}
        #expect(sum == 7)
        #expect(recorder.events.map(\.kind) == [.compute, .update, .update])
        #expect(recorder.events.map(\.name) == ["F0:0", "gradient sums", "AdamW"])
        #expect(recorder.events[1].start >= 0 && recorder.events[2].start >= recorder.events[1].end)
        #expect(abs(recorder.computeSeconds - 0.010) < 1e-9 && recorder.waitSeconds == 0)

        let data = try ChromeTrace.json(timelines: [recorder.events], grid: GridShape(pipeline: 1, expert: 1), title: "test")
        let events = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])["traceEvents"] as? [[String: Any]]
        let phases = try #require(events).filter { $0["cat"] as? String == "update" }
        #expect(phases.map { $0["name"] as? String } == ["gradient sums", "AdamW"])
        #expect(phases.allSatisfy { $0["tid"] as? Int == 2 })
        #expect(try ChromeTrace.computeOrder(of: data).map(\.actions) == [["F0:0"]])
        #expect(try ChromeTrace.computeSpans(of: data).map(\.action) == [.forward(Chunk(stage: 0, microBatch: 0))])

        // Without a trace asked for, nothing is kept.
        recorder.reset(origin: monotonicSeconds(), keepEvents: false)
        recorder.phase("AdamW") {}
        #expect(recorder.events.isEmpty)
    }

    @Test func aSpanThatIsNoActionIsNamed() throws {
        let data = Data(#"{"traceEvents":[{"name":"X9","cat":"X","ph":"X","pid":3,"ts":0,"dur":5}]}"#.utf8)
        let notAnAction = #expect(throws: PipelineError.self) { try ChromeTrace.computeMilliseconds(of: data) }
        #expect(notAnAction?.description == "trace event 'X9' of rank 3 is not an action")
        let noDuration = Data(#"{"traceEvents":[{"name":"F0:0","cat":"F","ph":"X","pid":1,"ts":0}]}"#.utf8)
        let lacking = #expect(throws: PipelineError.self) { try ChromeTrace.computeMilliseconds(of: noDuration) }
        #expect(lacking?.description == "trace event 'F0:0' of rank 1 lacks a duration >= 0")
    }
}
