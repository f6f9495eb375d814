/// Per-rank counts and displacements of a v-collective (alltoallv, allgatherv), as the Int32 arrays
/// MPI takes. Ranks' blocks are packed back to back in rank order.
public struct VectorLayout: Equatable, Sendable {
    /// Elements to or from each rank. [ranks]
    public let counts: [Int32]
    /// Offset of each rank's block, the exclusive prefix sum of `counts`. [ranks]
    public let displacements: [Int32]
    /// Sum of `counts`: the buffer length the layout describes.
    public let total: Int

    /// Checks that there is one count per rank, none negative, and that the total fits MPI's int.
    public init(counts: [Int], ranks: Int, role: String) throws(MPIUsageError) {
        guard counts.count == ranks else {
            throw MPIUsageError("\(role) counts: need one count per rank (\(ranks)), got \(counts.count)")
        }
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw MPIUsageError("\(role) counts: count for rank \(bad) is \(counts[bad]); counts must be >= 0")
        }
        var displacements = [Int32]()
        displacements.reserveCapacity(ranks)
        var offset = 0
        for count in counts {
            displacements.append(Int32(truncatingIfNeeded: offset))
            offset += count
        }
        guard offset <= Int(Int32.max) else {
            throw MPIUsageError("\(role) counts: total \(offset) exceeds MPI's limit of \(Int32.max) elements")
        }
        self.counts = counts.map { Int32($0) }
        self.displacements = displacements
        self.total = offset
    }

    /// Requires that a buffer of `length` elements is exactly what the layout describes.
    public func requireLength(_ length: Int, role: String) throws(MPIUsageError) {
        guard length == total else {
            throw MPIUsageError("\(role) buffer has \(length) elements but its counts add up to \(total)")
        }
    }
}
