import Testing
@testable import dualpipe

/// A refused model names the flags the user wrote and marks the values they left to a default,
/// so that "--experts 3" is not answered with a rule about groups they never set.
@Suite struct ModelFlagNamingTests {
    private func refusal(_ arguments: [String]) -> String? { refusalMessage(of: TrainCommand.self, arguments + ["--reference"]) }

    @Test func aRuleBetweenTwoFlagsNamesBothAndTheDefaultOne() {
        #expect(refusal(["--experts", "3"]) == "--experts 3 must split evenly into the default --groups 4")
        #expect(refusal(["--experts", "6", "--groups", "4"]) == "--experts 6 must split evenly into --groups 4")
        #expect(refusal(["--heads", "3"]) == "the default --hidden 128 must be divisible by --heads 3")
        #expect(refusal(["--topk-groups", "9"]) == "--topk-groups 9 must be in 1...4 (the default --groups 4)")
        #expect(refusal(["--top-k", "9"]) == "--top-k 9 must be in 1...8 (the default --experts 8)")
        #expect(refusal(["--dense-layers", "7"]) == "--dense-layers 7 must be in 0...4 (the default --layers 4)")
        #expect(refusal(["--experts", "4", "--groups", "2", "--topk-groups", "1", "--top-k", "3"])
                == "--top-k 3 exceeds the 2 experts a token can reach: --topk-groups 1 of 2 experts each")
    }

    @Test func aValueOutOfRangeIsNamedByItsFlag() {
        #expect(refusal(["--seq-len", "0"]) == "--seq-len 0: it must be at least 1")
        #expect(refusal(["--expert-hidden", "0"]) == "--expert-hidden 0: it must be at least 1")
        #expect(refusal(["--micro-batch-size", "2000000000"])?.hasPrefix("--micro-batch-size 2000000000 exceeds the limit of") == true)
    }

    /// With --model mlp every flag of the MoE transformer is refused once written, even at the
    /// MoE default's value: the command line would mean less than it says.
    @Test func theMoEFlagsAreRefusedWithTheMLPEvenAtTheirDefaults() {
        for flag in ["--heads", "--experts", "--top-k", "--groups", "--topk-groups", "--dense-layers"] {
            let value = ["--heads": "4", "--experts": "8", "--top-k": "2", "--groups": "4", "--topk-groups": "2", "--dense-layers": "1"][flag]!
            #expect(refusal(["--model", "mlp", flag, value])?.hasPrefix("\(flag) describes the MoE transformer, not --model mlp") == true)
        }
        #expect(refusal(["--model", "mlp"]) == nil)
    }
}
