@testable import Pipeline
import Testing
@testable import dualpipe

private let mib = 1_048_576.0

/// The header's `memory:` line and the last step's estimate with --check-reference's copy: where
/// the copy is held decides which rank needs the most, and a job let past the check says so.
@Suite struct MemoryLineTests {
    let estimates = [RankMemoryEstimate(parameters: 100 * mib, contexts: 2, contextBytes: 10 * mib, transient: 0),
                     RankMemoryEstimate(parameters: 130 * mib, contexts: 1, contextBytes: 10 * mib, transient: 0)]

    @Test func theCopyCountsWhereItIsHeld() {
        // Pipeline rank 1 needs 140 MiB alone; rank 0's copy lifts pipeline rank 0 to 170.
        let onRankZero = ReferenceCopy(bytes: 50 * mib, onEveryRank: false)
        #expect(onRankZero.largestTotal(estimates, rankZeroPipelineRank: 0) == 170 * mib)
        #expect(onRankZero.largestTotal(estimates, rankZeroPipelineRank: 1) == 190 * mib)
        #expect(onRankZero.bytes(onWorldRank: 0) == 50 * mib && onRankZero.bytes(onWorldRank: 3) == 0)
        let everywhere = ReferenceCopy(bytes: 50 * mib, onEveryRank: true)
        #expect(everywhere.largestTotal(estimates, rankZeroPipelineRank: 0) == 190 * mib)
        #expect(everywhere.bytes(onWorldRank: 3) == 50 * mib)
    }

    @Test func theLineNamesTheCopyAndWhetherTheNodesFit() {
        let fits = memoryLine(estimates, reference: ReferenceCopy(bytes: 50 * mib, onEveryRank: false), fits: true)
        #expect(fits.hasPrefix("memory: about 140.0 MiB on pp 1, the rank that needs the most"))
        #expect(fits.contains("; rank 0 also holds the whole model for --check-reference (50.0 MiB); every node's ranks together fit its "))
        let past = memoryLine(estimates, reference: nil, fits: false)
        #expect(!past.contains("--check-reference"))
        #expect(past.contains("; a node's ranks together need more than its "))
        #expect(past.hasSuffix(" (running anyway: --skip-memory-check)"))
    }
}
