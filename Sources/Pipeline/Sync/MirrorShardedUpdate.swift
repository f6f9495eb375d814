import MPI
import Model

/// AdamW sharded over DualPipe's mirror pair (ZeRO stage 1 at the scale of a pair). Both ranks of
/// a pair hold the same two stages, and each updates only the one whose primary copy it holds:
/// after the schedule each sends the other stage's gradients to that stage's owner, which adds
/// them to its own; after clipping, each owner runs AdamW on its stage and sends the new weights
/// to its partner, which takes them as they are.
///
/// Against the allreduce of both stages that it replaces, a rank sends as many bytes (one stage's
/// gradients and one stage's weights, for two stages' gradients), adds one stage instead of two,
/// runs AdamW over one stage instead of two and keeps one stage's moments instead of two. The
/// gradients travel in the allreduce's own layout (a routed expert's slots on a rank summed into
/// one place first), and the owner adds the partner's part to its own in the one addition the
/// allreduce made: the sums, the updates and the copies are the same bits as without sharding.
/// The buffers are the ones the unsharded sums would gather into, one a stage; the partner's
/// gradients arrive piece by piece in two small windows, and the weights travel in the gradient
/// buffers once those are free, so that the moments saved are memory saved.
public final class MirrorShardedUpdate {
    /// A stage as the update sees it: its parameters, and its gradients as the sums lay them out.
    public struct StageParts {
        let gradients: [any GradientGathering]

        /// A stage without routed experts, summed parameter by parameter (`--model mlp`).
        public init(denseStage stage: any ParameterOwner) {
            gradients = [GradientArena(stages: [stage]) { _ in true }]
        }

        /// A transformer stage: its dense gradients, then its routed experts' summed by logical
        /// expert, as `StageGradientSums` lays them out.
        public init(moeStage stage: Stage) {
            gradients = [GradientArena(stages: [stage]) { !$0.isRoutedExpert },
                         ExpertGradientSync(layers: stage.expertSlots, replicas: nil)].filter { $0.buffer.count > 0 }
        }
    }

    /// The stage this rank updates (the primary copy of the pair's stages on this rank).
    let owned: StageParts
    /// The stage the partner updates; this rank sends it its gradients and takes its weights.
    let mirrored: StageParts
    let pair: Communicator
    /// [2][windowFloats]: where the partner's gradients land, one piece each, while the other's
    /// piece is added.
    private let windows: [MessageBuffer<Float>]
    static let windowFloats = 1 << 18

    /// Collective over `pair` (two ranks, each passing the stage the other passes as `mirrored`
    /// as its `owned`): the messages go over a duplicate of it, apart from any other traffic.
    public init(owned: StageParts, mirrored: StageParts, pair: Communicator) throws {
        precondition(pair.size == 2, "a mirror pair is two ranks, got \(pair.size)")
        self.owned = owned
        self.mirrored = mirrored
        self.pair = try pair.duplicate()
        windows = (0..<2).map { _ in MessageBuffer(uninitializedCount: Self.windowFloats) }
    }

    private var partner: Int { 1 - pair.rank }

    /// `0..<count` in window-sized pieces.
    static func pieces(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: windowFloats).map { $0..<min($0 + windowFloats, count) }
    }

    /// After the schedule: the mirrored stage's gradients go to the partner, and the partner's
    /// gradients of the owned stage are added to this rank's. Only the owned stage's gradients are
    /// the sum afterwards. Returns the bytes this rank sent.
    public func reduceGradients() throws -> Int {
        var sends: [Request] = [], bytes = 0
        for (k, part) in mirrored.gradients.enumerated() {
            part.gather()
            // Messages between two ranks with one tag arrive in the order they were sent.
            for piece in Self.pieces(part.buffer.count) { sends.append(try pair.isend(part.buffer, range: piece, to: partner, tag: k)) }
            bytes += part.buffer.count * MemoryLayout<Float>.size
        }
        for part in owned.gradients { part.gather() }
        for (k, part) in owned.gradients.enumerated() {
            let pieces = Self.pieces(part.buffer.count)
            var next = try pieces.first.map { try pair.irecv(into: windows[0], range: 0..<$0.count, from: partner, tag: k) }
            for (i, piece) in pieces.enumerated() {
                _ = try next!.wait()
                next = i + 1 < pieces.count ? try pair.irecv(into: windows[(i + 1) % 2], range: 0..<pieces[i + 1].count, from: partner, tag: k) : nil
                let sum = part.buffer.pointer.baseAddress! + piece.lowerBound, other = windows[i % 2].pointer.baseAddress!
                for j in 0..<piece.count { sum[j] += other[j] }
            }
            part.scatter()
        }
        try Requests.waitAll(sends)
        return bytes
    }

    /// After AdamW updated the owned stage: its weights go to the partner, and the mirrored
    /// stage's come from it, each in the buffers its gradients used. Returns the bytes this rank sent.
    public func shareWeights() throws -> Int {
        var requests: [Request] = [], bytes = 0
        for (k, part) in mirrored.gradients.enumerated() { requests.append(try pair.irecv(into: part.buffer, from: partner, tag: 100 + k)) }
        for (k, part) in owned.gradients.enumerated() {
            part.gatherValues()
            requests.append(try pair.isend(part.buffer, to: partner, tag: 100 + k))
            bytes += part.buffer.count * MemoryLayout<Float>.size
        }
        try Requests.waitAll(requests)
        for part in mirrored.gradients { part.scatterValues() }
        return bytes
    }

    /// The owned stage's AdamW states go to the partner, and the mirrored stage's come back, so
    /// that both copies of each stage hold the same moments (a checkpoint's shards stay complete:
    /// each rank writes both its stages). `owned` and the partner's `mirrored` list the same
    /// optimizers in the same order. Returns the mirrored stage's states.
    public func exchange(states: [AdamW.State], mirroredCount: Int) throws -> [AdamW.State] {
        var header: [Int64] = []
        let outgoing = MessageBuffer<Float>(uninitializedCount: states.reduce(0) { $0 + 2 * $1.m.count })
        var at = 0
        for state in states {
            header += [Int64(state.steps), Int64(state.m.count)]
            for moments in [state.m, state.v] {
                _ = UnsafeMutableBufferPointer(rebasing: outgoing.pointer[at..<(at + moments.count)]).initialize(from: moments)
                at += moments.count
            }
        }
        let incomingHeader = MessageBuffer<Int64>(count: 2 * mirroredCount, repeating: 0)
        let headerReceive = try pair.irecv(into: incomingHeader, from: partner, tag: 101)
        let headerSend = try pair.isend(header, to: partner, tag: 101)
        _ = try headerReceive.wait()
        _ = try headerSend.wait()
        let counts = stride(from: 0, to: incomingHeader.count, by: 2).map { Int(incomingHeader.pointer[$0 + 1]) }
        let incoming = MessageBuffer<Float>(uninitializedCount: counts.reduce(0) { $0 + 2 * $1 })
        let receive = try pair.irecv(into: incoming, from: partner, tag: 102)
        let send = try pair.isend(outgoing, to: partner, tag: 102)
        _ = try receive.wait()
        _ = try send.wait()
        var offset = 0
        return counts.enumerated().map { k, count in
            let m = Array(incoming.pointer[offset..<(offset + count)])
            let v = Array(incoming.pointer[(offset + count)..<(offset + 2 * count)])
            offset += 2 * count
            return AdamW.State(m: m, v: v, steps: Int(incomingHeader.pointer[2 * k]))
        }
    }
}

/// Where AdamW is sharded over the mirror pairs.
public enum OptimizerSharding {
    /// Whether the grid allows it: DualPipe at EP 1, where the ranks holding a stage are exactly
    /// its mirror pair (at EP > 1 the dense part has 2 x EP copies).
    public static func applies(to configuration: PipelineConfiguration) -> Bool {
        configuration.kind == .dualpipe && configuration.expertParallel == 1
    }

    /// The choice when the user made none: shard where it applies and each pair shares a node.
    /// Across nodes the unsharded sums win: one stage's swap crosses the link during the schedule
    /// (`StageGradientSums`), where sharding sends gradients and then weights after it.
    public static func automatic(applies: Bool, pairOnOneNode: Bool) -> Bool { applies && pairOnOneNode }

    /// `requested` (nil: `automatic`) for this grid; throws when sharding was asked for where it
    /// does not apply. Collective over `replicas` where it applies (the node test).
    public static func resolve(_ requested: Bool?, configuration: PipelineConfiguration, replicas: Communicator) throws -> Bool {
        let applies = applies(to: configuration)
        if requested == true && !applies { throw PipelineError(refusal(configuration)) }
        guard applies else { return false }
        if let requested { return requested }
        return automatic(applies: true, pairOnOneNode: try replicas.splitSharedMemory().size == replicas.size)
    }

    /// Why `--shard-optimizer` cannot run on this grid.
    public static func refusal(_ configuration: PipelineConfiguration) -> String {
        configuration.kind != .dualpipe
            ? "--shard-optimizer shards AdamW over DualPipe's mirror pairs; \(configuration.kind.title) holds one copy of each stage"
            : "--shard-optimizer needs EP 1 (each stage held by its mirror pair alone), got EP \(configuration.expertParallel)"
    }
}
