import Foundation
import Testing
@testable import dualpipe

/// How rank 0 follows a job's end that moves while the job runs, through the file
/// slurm/train.sbatch rewrites.
@Suite struct JobEndWatchTests {
    func file(_ text: String?) -> String {
        let path = NSTemporaryDirectory() + "job-end-\(UUID().uuidString)"
        if let text { write(atPath: path, contents: Data(text.utf8)) }
        return path
    }

    func write(atPath path: String, contents: Data) {
        #expect(FileManager.default.createFile(atPath: path, contents: contents))
    }

    /// `watch.moved(now:)`, outside the expectation macro (which cannot mutate).
    func moved(_ watch: inout JobEndWatch, _ now: Double) -> Double? { watch.moved(now: now) }

    @Test func watchesOnlyWithAFileAndAStartingEnd() {
        #expect(JobEndWatch([:], start: 1000) == nil)
        #expect(JobEndWatch(["DUALPIPE_JOB_END_FILE": file("2000")], start: nil) == nil)
    }

    @Test func aNewEndIsTakenOnceAndTheSameOneIsNot() throws {
        let path = file(nil)
        var watch = try #require(JobEndWatch(["DUALPIPE_JOB_END_FILE": path], start: 1000))
        #expect(moved(&watch, 0) == nil)  // no file yet: the end stays
        write(atPath: path, contents: Data("1000\n".utf8))
        #expect(moved(&watch, 10) == nil)  // the end the run already goes by
        write(atPath: path, contents: Data("4600\n".utf8))
        #expect(moved(&watch, 10.5) == nil)  // within the interval the file is not read
        #expect(moved(&watch, 11) == 4600)
        #expect(watch.end == 4600)
        #expect(moved(&watch, 20) == nil)
        write(atPath: path, contents: Data("Unknown\n".utf8))
        #expect(moved(&watch, 30) == nil && watch.end == 4600)
        write(atPath: path, contents: Data("900".utf8))  // moved earlier: taken too
        #expect(moved(&watch, 40) == 900)
    }

    @Test func aStopGoesByTheMovedEnd() {
        var stop = TimeLimitStop(end: 1000, margin: 60)
        let due = stop.due(longestIteration: 10, now: 930)
        #expect(due)
        var moved = TimeLimitStop(end: 1000, margin: 60)
        moved.end = 4600
        let movedDue = moved.due(longestIteration: 10, now: 930)
        #expect(!movedDue)
    }
}
