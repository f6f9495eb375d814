import Model
import Pipeline

/// `--check-reference`'s second copy of the whole model, held beside a rank's pipeline share: on
/// rank 0 for the MoE model (`ReferenceCheck`), on every rank for `--model mlp`
/// (`MLPReferenceCheck`). The memory check counts it, and the header and the last step's memory
/// line show it.
struct ReferenceCopy: CustomStringConvertible {
    /// The copy's estimate, in bytes.
    var bytes: Double
    var onEveryRank: Bool

    /// "rank 0 also holds the whole model for --check-reference (40.1 MiB)".
    var description: String {
        "\(onEveryRank ? "every rank" : "rank 0") also holds the whole model for --check-reference (\(PhysicalMemory.formatted(bytes)))"
    }

    func bytes(onWorldRank rank: Int) -> Double { onEveryRank || rank == 0 ? bytes : 0 }

    /// The most a rank is estimated to need with the copy: every pipeline rank's total
    /// (`estimates` [PP]), the copy's bytes added where it is held (`rankZeroPipelineRank`: the
    /// pipeline rank of world rank 0).
    func largestTotal(_ estimates: [RankMemoryEstimate], rankZeroPipelineRank: Int) -> Double {
        estimates.indices.map { estimates[$0].total + (onEveryRank || $0 == rankZeroPipelineRank ? bytes : 0) }.max() ?? 0
    }
}
