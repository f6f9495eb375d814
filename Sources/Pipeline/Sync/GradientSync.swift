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

    public init(stages: [any StageModule], replicas: Communicator) {
        dense = GradientArena(stages: stages.sorted { $0.index < $1.index }) { !$0.isRoutedExpert }
        self.replicas = replicas
    }

    /// Sums in place; returns the bytes this rank contributed to the reductions (0 alone).
    @discardableResult
    public func synchronise() throws -> Int {
        guard replicas.size > 1 else { return 0 }
        var bytes = 0
        for arena in [dense] where arena.count > 0 {
            arena.gather()
            // Blocking: Open MPI's coll/tuned sums these few MB over the mirror pair faster than
            // libnbc's MPI_Iallreduce (1.7 ms a step less with the experts' sum, default model at
            // PP 2), and the rank has nothing to do meanwhile.
            try replicas.allreduce(arena.buffer, op: .sum)
            arena.scatter()
            bytes += arena.count * MemoryLayout<Float>.size
        }
        return bytes
    }
}
