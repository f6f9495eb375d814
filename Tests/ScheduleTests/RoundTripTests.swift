import Foundation
import Testing
@testable import Schedule

@Suite struct RoundTripTests {
    static let samples: [(ScheduleKind, Int, Int)] = [
        (.dualpipe, 8, 20), (.dualpipe, 2, 6), (.dualpipev, 4, 11), (.oneFOneB, 4, 9), (.zb1p, 5, 7), (.gpipe, 3, 4),
        (.interleaved1F1B, 3, 6),
    ]

    @Test func csvRoundTrips() throws {
        for (kind, n, m) in Self.samples {
            let schedule = try Schedule.generate(kind: kind, ranks: n, microBatches: m)
            #expect(try Schedule.program(csv: schedule.csv()) == schedule.program, "\(kind) \(n)x\(m)")
        }
    }

    @Test func jsonRoundTrips() throws {
        for (kind, n, m) in Self.samples {
            let schedule = try Schedule.generate(kind: kind, ranks: n, microBatches: m)
            #expect(try Schedule(json: schedule.json()) == schedule, "\(kind) \(n)x\(m)")
        }
    }

    @Test func jsonHasTheDocumentedShape() throws {
        let schedule = try Schedule.generate(kind: .dualpipe, ranks: 2, microBatches: 4)
        #expect(schedule.json().hasPrefix(#"{"kind":"dualpipe","ranks":2,"stages":2,"microbatches":4,"program":[\#n  [{"op":"F","stage":0,"mb":0},"#))
        let object = try #require(JSONSerialization.jsonObject(with: Data(schedule.json().utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "dualpipe")
        #expect(object["ranks"] as? Int == 2 && object["stages"] as? Int == 2 && object["microbatches"] as? Int == 4)
        let program = try #require(object["program"] as? [[[String: Any]]])
        #expect(program.count == 2)
        #expect(program[0][0]["op"] as? String == "F" && program[0][0]["stage"] as? Int == 0 && program[0][0]["mb"] as? Int == 0)
        let pair = try #require(program.joined().first { $0["op"] as? String == "FB" })
        #expect((pair["f"] as? [String: Int])?.keys.sorted() == ["mb", "stage"])
        #expect((pair["b"] as? [String: Int])?.keys.sorted() == ["mb", "stage"])
    }

    @Test func shortSyntaxRoundTrips() {
        let actions: [Action] = [
            .forward(Chunk(stage: 3, microBatch: 12)), .backwardInput(Chunk(stage: 0, microBatch: 0)),
            .backwardWeight(Chunk(stage: 15, microBatch: 511)), .backward(Chunk(stage: 2, microBatch: 9)),
            .forwardBackward(forward: Chunk(stage: 1, microBatch: 7), backward: Chunk(stage: 6, microBatch: 2)),
        ]
        for action in actions { #expect(Action(action.description) == action) }
        #expect(actions.map(\.description) == ["F3:12", "B0:0", "W15:511", "BW2:9", "FB1:7+6:2"])
        for bad in ["", "F", "F3", "X1:2", "F1:2:3", "FB1:2", "F-1:2", "BW1:x"] { #expect(Action(bad) == nil, "\(bad)") }
    }

    @Test func malformedInputIsRejectedWithAReason() {
        #expect(throws: ScheduleError.self) { try Schedule.program(csv: "rank,0\n0,F0:0,Q1\n") }
        #expect(throws: ScheduleError.self) { try Schedule.program(csv: "0,F0:0\n") }
        #expect(throws: ScheduleError.self) { try Schedule(json: #"{"kind":"dualpipe","ranks":3,"stages":3,"microbatches":6,"program":[]}"#) }
        #expect(throws: ScheduleError.self) { try Schedule(json: #"{"kind":"dualpipev","ranks":2,"stages":2,"microbatches":4,"program":[]}"#) }
    }
}
