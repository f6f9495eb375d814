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
        guard let pending = try start(blocking: true) else { return 0 }
        return try pending.complete()
    }

    /// Gathers the gradients and starts their sum: blocking (Open MPI's coll/tuned, the faster
    /// path when nothing is left to compute meanwhile) or, between two ranks, as a swap that
    /// travels while the rank computes (`PendingSum.start`). Nil when there is nothing to sum.
    func start(blocking: Bool) throws -> PendingSum? {
        guard replicas.size > 1, dense.count > 0 else { return nil }
        dense.gather()
        return try PendingSum.start(dense.buffer, over: replicas, blocking: blocking, received: blocking ? nil : received) { [dense] in
            dense.scatter()
        }
    }
}

/// A gradient sum started and not yet given back to the parameters: `complete` waits for its
/// messages, adds and scatters the sums.
struct PendingSum {
    let requests: [Request]
    /// What this rank contributed to the reduction.
    let bytes: Int
    /// Runs once the requests are complete: the partner's buffer added, then the sums scattered.
    let finish: () -> Void

    /// Sums `buffer` in place over `replicas`, then `scatter`s. Blocking: MPI_Allreduce. Not
    /// blocking, between the two ranks of a pair: each sends its buffer to the other, receives the
    /// other's into `received` (as large) and adds it (float addition commutes, so both hold the
    /// same bits). The two messages progress like the pipeline's own, where libnbc's
    /// MPI_Iallreduce crossed a 1 Gbit/s link slower than the blocking sum after the schedule.
    static func start(_ buffer: MessageBuffer<Float>, over replicas: Communicator, blocking: Bool, received: MessageBuffer<Float>?,
                      scatter: @escaping () -> Void) throws -> PendingSum {
        let bytes = buffer.count * MemoryLayout<Float>.size
        if blocking {
            try replicas.allreduce(buffer, op: .sum)
            return PendingSum(requests: [], bytes: bytes, finish: scatter)
        }
        guard replicas.size == 2, let received, received.count == buffer.count else {
            preconditionFailure("a nonblocking sum is a swap between two ranks with a buffer for the partner's \(buffer.count) floats")
        }
        let partner = 1 - replicas.rank
        let requests = [try replicas.irecv(into: received, from: partner, tag: 0), try replicas.isend(buffer, to: partner, tag: 0)]
        return PendingSum(requests: requests, bytes: bytes) {
            let sum = buffer.pointer.baseAddress!, other = received.pointer.baseAddress!
            for i in 0..<buffer.count { sum[i] += other[i] }
            scatter()
        }
    }

    func progress() throws {
        for request in requests where !request.isComplete { _ = try request.test() }
    }

    func complete() throws -> Int {
        for request in requests where !request.isComplete { try request.wait() }
        finish()
        return bytes
    }
}
