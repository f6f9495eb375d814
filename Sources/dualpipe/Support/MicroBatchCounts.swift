/// Micro-batch counts to suggest where the one given is what a schedule refuses (DualPipe's odd M,
/// fewer than PP needs): the nearest below and above it that `runs` accepts, within `reach` of
/// it, as flags, e.g. "--micro-batches 4 or --micro-batches 6". Nil where none within reach runs
/// (a count far past a limit is answered by the limit's own rule).
enum MicroBatchCounts {
    static let reach = 1024

    static func nearest(to given: Int, where runs: (Int) -> Bool) -> String? {
        guard given >= 1 else { return nil }
        let below = stride(from: given - 1, through: max(1, given - reach), by: -1).first(where: runs)
        // Past Int.max - reach nothing runs anyway (the schedules' limits are far below).
        let above = given <= Int.max - reach ? (given + 1...given + reach).first(where: runs) : nil
        let counts = [below, above].compactMap { $0 }
        return counts.isEmpty ? nil : counts.map { "--micro-batches \($0)" }.joined(separator: " or ")
    }
}
