import Testing
@testable import dualpipe

/// Before the first step, --checkpoint-dir's file system is held against the run's checkpoints:
/// refused where one does not fit, a warning where the most the folder holds at once does not.
@Suite struct CheckpointSpaceTests {
    func space(free: Double, count: Int = 0, existing: Double = 0, keep: Int = 2, saves: Int = 10) -> CheckpointSpace {
        CheckpointSpace(checkpointBytes: 4e6, shards: 4, free: free, existingCount: count, existing: existing, keep: keep, saves: saves)
    }

    @Test func lessThanOneCheckpointIsRefused() {
        let verdict = space(free: 3.1e6).verdict(directory: "ck")
        #expect(verdict?.refuses == true)
        #expect(verdict?.text == "--checkpoint-dir 'ck': a checkpoint of this run writes about 4.0 MB (4 shards), and its file system has 3.1 MB free: free space there, or give a folder on a larger file system")
    }

    /// --keep 2 holds three at once while the third completes; a run that saves once needs one.
    @Test func theMostHeldAtOnceDecidesTheWarning() {
        #expect(space(free: 11e6).mostHeld == 3 && space(free: 11e6).verdict(directory: "ck")?.refuses == false)
        #expect(space(free: 12e6).verdict(directory: "ck") == nil)
        #expect(space(free: 4e6, saves: 1).mostHeld == 1 && space(free: 4e6, saves: 1).verdict(directory: "ck") == nil)
        #expect(space(free: 7e6, saves: 2).verdict(directory: "ck")?.text
            == "--checkpoint-dir 'ck': a checkpoint of this run writes about 4.0 MB (4 shards); with --keep 2 the folder comes to hold 2 at once while a save completes, 8.0 MB more, and its file system has 7.0 MB free: a later save may run out of space")
    }

    /// A resumed run's checkpoints already there count among those kept: with two there, one more.
    @Test func checkpointsAlreadyThereCount() {
        let resumed = space(free: 4.5e6, count: 2, existing: 8e6)
        #expect(resumed.mostHeld == 3 && resumed.needed == 4e6 && resumed.verdict(directory: "ck") == nil)
        let one = space(free: 7e6, count: 1, existing: 4e6)
        #expect(one.needed == 8e6)
        #expect(one.verdict(directory: "ck")?.text.contains("8.0 MB more (beside the 4.0 MB of checkpoints already there), and its file system has 7.0 MB free") == true)
    }

    @Test func bytesReadInDecimalUnits() {
        #expect(CheckpointSpace.decimal(68.64e6) == "68.6 MB" && CheckpointSpace.decimal(52.1e9) == "52.1 GB" && CheckpointSpace.decimal(3e12) == "3.0 TB")
    }
}
