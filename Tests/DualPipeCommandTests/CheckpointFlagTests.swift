import Testing
@testable import dualpipe

/// The flags that shape saving are refused where nothing is saved, whatever value they carry
/// (their defaults included), so that a command line never means less than it says.
@Suite struct CheckpointFlagTests {
    private func refusal(_ arguments: [String]) -> String? { refusalMessage(of: TrainCommand.self, arguments) }

    @Test func withoutACheckpointFolderEachIsRefusedByName() {
        for (flag, value) in [("--keep", "3"), ("--keep", "2"), ("--checkpoint-every", "0"), ("--checkpoint-every", "5"), ("--stop-before-limit", "30")] {
            #expect(refusal([flag, value]) == "\(flag) needs --checkpoint-dir DIR")
        }
        #expect(refusal(["--resume"]) == "--resume needs --checkpoint-dir DIR")
    }

    @Test func trainersThatDoNotSaveRefuseThemAsTheirs() {
        for flags in [["--keep", "2"], ["--checkpoint-every", "1"], ["--resume"], ["--stop-before-limit", "0"]] {
            #expect(refusal(["--reference"] + flags) == "\(flags[0]) applies to the pipeline trainer, not to --reference"
                    + "; in one process the pipeline trainer saves and resumes: dualpipe train --schedule 1f1b --checkpoint-dir DIR (PP 1)")
            #expect(refusal(["--model", "mlp"] + flags) == "\(flags[0]) applies to the MoE transformer, not to --model mlp")
        }
    }

    @Test func theDefaultsStandWhereNotWritten() throws {
        let command = try TrainCommand.parse([])
        #expect(command.recovery.keep == 2)
        #expect(command.recovery.checkpointEvery == 0)
    }
}

/// --trace-step chooses the step that --trace and --trace-svg record; alone it records nothing.
@Suite struct TraceStepFlagTests {
    @Test func aloneItIsRefused() {
        let error = #expect(throws: (any Error).self) { try TrainCommand.parse(["--trace-step", "0"]) }
        #expect(TrainCommand.message(for: error!) == "--trace-step needs --trace FILE or --trace-svg FILE (the step they record)")
        let reference = #expect(throws: (any Error).self) { try TrainCommand.parse(["--reference", "--trace-step", "0"]) }
        #expect(TrainCommand.message(for: reference!) == "--trace-step applies to the pipeline trainer, not to --reference")
    }
}
