/// Micro-batch counts to suggest where the one given is what a schedule refuses (DualPipe's odd M,
/// fewer than PP needs): the nearest below and above it that `runs` accepts, as flags, e.g.
/// "--micro-batches 4 or --micro-batches 6". Nil where none within reach runs.
enum MicroBatchCounts {
    static func nearest(to given: Int, where runs: (Int) -> Bool) -> String? {
        guard given >= 1 else { return nil }
        let below = stride(from: given - 1, through: 1, by: -1).first(where: runs)
        let above = (given + 1...given + 1024).first(where: runs)
        let counts = [below, above].compactMap { $0 }
        return counts.isEmpty ? nil : counts.map { "--micro-batches \($0)" }.joined(separator: " or ")
    }
}
