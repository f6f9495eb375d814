import Testing
@testable import dualpipe

/// The header's lines on checkpoints and evaluation: there when asked for, saying when and where.
@Suite struct PersistenceLinesTests {
    func lines(_ arguments: [String], space: CheckpointSpace? = nil) throws -> [String] {
        try TrainCommand.parse(arguments).persistenceLines(heldOutMicroBatches: 16, space: space)
    }

    @Test func noneWithoutCheckpointsOrEvaluation() throws {
        #expect(try lines([]) == [])
    }

    @Test func checkpointsEveryKOrOnlyAtTheEnd() throws {
        let folder = "/tmp/dualpipe-persistence-lines-\(UInt32.random(in: 0...UInt32.max))"
        #expect(try lines(["--checkpoint-dir", folder, "--checkpoint-every", "100", "--keep", "3"])
            == ["checkpoints: in \(folder), every 100 step(s) and after the last, the newest 3 kept; SIGUSR1 or SIGTERM stops every rank after the step in progress with one (exit 75)"])
        #expect(try lines(["--checkpoint-dir", folder]).first?.hasPrefix("checkpoints: in \(folder), after the last step, the newest 2 kept;") == true)
        let space = CheckpointSpace(checkpointBytes: 68.64e6, shards: 8, free: 52.1e9, keep: 2, saves: 1)
        #expect(try lines(["--checkpoint-dir", folder], space: space).first?.hasPrefix("checkpoints: in \(folder), after the last step, the newest 2 kept, about 68.6 MB each (52.1 GB free there);") == true)
    }

    @Test func evaluationSaysHowMuchAndWhen() throws {
        #expect(try lines(["--eval-every", "50"])
            == ["evaluation: the held-out loss over 16 micro-batches of the corpus's last 5%, every 50 step(s) and after the last"])
    }
}
