import Foundation
import Testing
@testable import Schedule

/// Configurations and files a user can get wrong: refused by rule, never trapped on.
@Suite struct InputLimitTests {
    private func error(_ kind: ScheduleKind, _ n: Int, _ m: Int) -> String? {
        do {
            _ = try ScheduleConfiguration(kind: kind, ranks: n, microBatches: m)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func overflowingValuesAreRefusedNotTrapped() throws {
        for kind in ScheduleKind.allCases {
            let message = try #require(error(kind, 4_611_686_018_427_387_904, 9_223_372_036_854_775_806))
            #expect(message.contains("exceeds the limit of 4096 ranks"))
            #expect(error(kind, 4, Int.max)?.contains("exceeds the limit of 524288 chunks") == true)
            #expect(error(kind, 4, Int.min) != nil)
            #expect(error(kind, Int.min, 4)?.contains("N >= 1") == true)
        }
    }

    @Test func theChunkLimitCountsStages() throws {
        #expect(error(.gpipe, 4096, 128) == nil)
        #expect(error(.gpipe, 4096, 129)?.contains("4096 stages x M = 129") == true)
        #expect(error(.dualpipev, 256, 1024) == nil)
        #expect(error(.dualpipev, 256, 1026)?.contains("512 stages x M = 1026") == true)
    }

    @Test func negativeMicroBatchesNameTheMinimum() throws {
        let message = try #require(error(.dualpipe, 4, -3))
        #expect(message.contains("M >= 2N") && message.contains("M = -3"))
    }

    @Test func costsThatMeanNothingAreRefused() {
        func rule(_ costs: Costs) -> String? {
            do { try costs.validate(); return nil } catch { return error.description }
        }
        #expect(rule(Costs()) == nil)
        #expect(rule(Costs(forward: 10, backwardInput: 10, backwardWeight: 4, forwardBackward: 17)) == nil)
        #expect(rule(Costs(forwardBackward: 0.5))?.hasPrefix("FB = 0.5 is below max(F, BW) = 2.0") == true)
        #expect(rule(Costs(backwardInput: 3, backward: 2))?.hasPrefix("BW = 2.0 is below max(B, W) = 3.0") == true)
        #expect(rule(Costs(backwardWeight: -1))?.hasPrefix("W = -1.0: every cost must be a finite number >= 0") == true)
        #expect(rule(Costs(latency: .nan))?.hasPrefix("latency = nan") == true)
        #expect(rule(Costs(latency: 1, transfer: 1.5)) == nil)
        #expect(rule(Costs(latency: 1, transfer: -1))?.hasPrefix("transfer = -1.0: every cost must be a finite number >= 0") == true)
        #expect(rule(Costs(forward: 0))?.hasPrefix("F = 0.0: a forward must cost more than 0") == true)
    }

    @Test func aNegativeFormulaIsNotShownAsABubble() {
        let heavyW = Costs(backwardWeight: 5)
        let zb = BubbleFormula.readme(.zb1p, stages: 4, costs: heavyW)
        #expect(zb < 0)
        #expect(BubbleFormula.shown(zb, .zb1p) == "n/a (costs break F+B >= 2W)")
        #expect(BubbleFormula.shown(BubbleFormula.readme(.zb1p, stages: 4, costs: Costs()), .zb1p) == "3")
    }

    @Test func malformedJSONIsDescribedWithItsPlace() throws {
        func message(_ json: String) -> String {
            do { _ = try Schedule(json: json); return "accepted" } catch { return "\(error)" }
        }
        #expect(message("{\"kind\": \"dualpipe\",\n  \"ranks\": 4x}") == "malformed schedule: not schedule JSON: not valid JSON at line 2, column 13: invalid value")
        #expect(message("{\"kind\":") == "malformed schedule: not schedule JSON: not valid JSON: it ends early, at line 1, column 9")
        #expect(message("") == "malformed schedule: not schedule JSON: the file is empty, not JSON")
        #expect(message(#"{"kind":"dualpipe","ranks":4,"stages":4,"microbatches":8}"#) == "malformed schedule: not schedule JSON: missing the key 'program'")
        let mismatch = message(#"{"kind":"dualpipe","ranks":"four","stages":4,"microbatches":8,"program":[]}"#)
        #expect(mismatch.hasPrefix("malformed schedule: not schedule JSON: ranks: expected an integer"))
        #expect(!mismatch.contains("DecodingError"))
        let huge = message(#"{"kind":"dualpipe","ranks":4611686018427387904,"stages":4,"microbatches":8,"program":[]}"#)
        #expect(huge.contains("exceeds the limit of 4096 ranks"))
    }
}
