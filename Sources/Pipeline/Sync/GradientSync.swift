import MPI
import Model

/// Sums the dense gradients over the ranks that hold the same stages: DualPipe's two copies of
/// each stage (the mirror pair, pipeline ranks r and PP-1-r) and the EP group's data-parallel
/// replicas, in one in-place allreduce over the `replicas` communicator. Every rank of the group
/// ends with the same sum, so the optimizer keeps the copies identical. Routed experts are
/// sharded, so their sums are `ExpertGradientSync`'s.
public final class GradientSync {
    public let dense: GradientArena
    let replicas: Communicator
    /// The partner's gradients, for a nonblocking sum between two ranks.
    private lazy var received = MessageBuffer<Float>(uninitializedCount: dense.count)

    public init(stages: [any StageModule], replicas: Communicator) {
        dense = GradientArena(stages: stages.sorted { $0.index < $1.index }) { !$0.isRoutedExpert }
        self.replicas = replicas
    }

    /// Sums in place; returns the bytes this rank contributed to the reductions (0 alone).
    @discardableResult
    public func synchronise() throws -> Int {
        guard replicas.size > 1, dense.count > 0 else { return 0 }
        dense.gather()
        // Blocking: Open MPI's coll/tuned sums these few MB faster than libnbc's MPI_Iallreduce
        // (1.7 ms a step less with the experts' sum, default model at PP 2).
        try replicas.allreduce(dense.buffer, op: .sum)
        dense.scatter()
        return dense.count * MemoryLayout<Float>.size
    }

    /// The early form of the sum, for a replica group that is a pair: gathers, and returns the
    /// swap with the other copy, not yet posted. Nil when there is nothing to sum.
    func prepareSwap() -> PairSwap? {
        guard dense.count > 0 else { return nil }
        dense.gather()
        return PairSwap(buffer: dense.buffer, received: received, pair: replicas) { [dense] in dense.scatter() }
    }
}

/// The sum of a buffer between the two ranks of `pair`, each holding its part: `post` sends the
/// buffer to the other and receives the other's into `received` (MPI_Isend/MPI_Irecv, which
/// progress like the pipeline's own messages, where libnbc's MPI_Iallreduce crossed a 1 Gbit/s
/// link slower than the blocking sum after the schedule); `complete` waits, adds the partner's
/// part into the buffer (float addition commutes, so both ranks hold the same bits) and scatters.
final class PairSwap {
    let buffer: MessageBuffer<Float>
    let received: MessageBuffer<Float>
    let pair: Communicator
    let scatter: () -> Void
    private var requests: [Request] = []
    private(set) var isPosted = false

    init(buffer: MessageBuffer<Float>, received: MessageBuffer<Float>, pair: Communicator, scatter: @escaping () -> Void) {
        precondition(pair.size == 2 && received.count == buffer.count, "a swap is between two ranks, with room for the partner's \(buffer.count) floats")
        self.buffer = buffer; self.received = received; self.pair = pair; self.scatter = scatter
    }

    func post() throws {
        precondition(!isPosted, "a swap posted twice")
        let partner = 1 - pair.rank
        requests = [try pair.irecv(into: received, from: partner, tag: 0), try pair.isend(buffer, to: partner, tag: 0)]
        isPosted = true
    }

    func progress() throws {
        for request in requests where !request.isComplete { _ = try request.test() }
    }

    /// Returns the bytes this rank sent.
    func complete() throws -> Int {
        if !isPosted { try post() }
        for request in requests where !request.isComplete { try request.wait() }
        let sum = buffer.pointer.baseAddress!, other = received.pointer.baseAddress!
        for i in 0..<buffer.count { sum[i] += other[i] }
        scatter()
        return buffer.count * MemoryLayout<Float>.size
    }
}
