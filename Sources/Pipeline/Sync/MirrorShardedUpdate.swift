import MPI
import Model

/// AdamW sharded over DualPipe's mirror pair (ZeRO stage 1 at the scale of a pair). Both ranks of
/// a pair hold the same two stages, and each updates only the one whose primary copy it holds,
/// then sends the new weights to its partner, which takes them as they are.
///
/// At EP 1 the pair holds a stage's only copies and sums them itself: after the schedule each
/// rank sends the other stage's gradients to that stage's owner, which adds them to its own.
/// Against the allreduce of both stages that this replaces, a rank sends as many bytes (one
/// stage's gradients and one stage's weights, for two stages' gradients), adds one stage instead
/// of two, runs AdamW over one stage instead of two and keeps one stage's moments instead of two.
/// The gradients travel in the allreduce's own layout (a routed expert's slots on a rank summed
/// into one place first), and the owner adds the partner's part to its own in the one addition
/// the allreduce made: the sums, the updates and the copies are the same bits as without
/// sharding. At EP > 1 the replica group's allreduce still sums (the dense part has 2 x EP copies,
/// an expert's replicas sit on other EP ranks), and the pair is the two ranks of the same EP rank:
/// it saves the moments and AdamW of one stage, and adds the weights' transfer.
///
/// One buffer the size of a stage's gradients: the mirrored stage's, gathered to be sent. The
/// partner's gradients of the owned stage arrive piece by piece in two small windows and are added
/// into the gradients themselves (its gather buffer is never allocated), and the weights travel
/// through two more windows.
public final class MirrorShardedUpdate {
    /// A stage as the update sees it: its parameters, and the gradients this update sums.
    public struct StageParts {
        let values: ParameterValues
        /// The gradients the pair sums, as the replica group's sums would lay them out (none
        /// where those sums run).
        let gradients: [any GradientGathering]

        /// A stage without routed experts that the pair sums parameter by parameter (`--model mlp`).
        public init(denseStage stage: any ParameterOwner) {
            values = ParameterValues(stage)
            gradients = [GradientArena(stages: [stage]) { _ in true }]
        }

        /// A transformer stage that the pair sums: its dense gradients, then its routed experts'
        /// summed by logical expert, as `StageGradientSums` lays them out.
        public init(moeStage stage: Stage) {
            values = ParameterValues(stage)
            gradients = [GradientArena(stages: [stage]) { !$0.isRoutedExpert },
                         ExpertGradientSync(layers: stage.expertSlots, replicas: nil)].filter { $0.count > 0 }
        }

        /// A stage whose gradients the replica group's allreduce sums: only its weights travel.
        public init(weightsOf stage: any ParameterOwner) {
            values = ParameterValues(stage)
            gradients = []
        }
    }

    /// The stage this rank updates (the primary copy of the pair's stages on this rank).
    let owned: StageParts
    /// The stage the partner updates; this rank sends it its gradients and takes its weights.
    let mirrored: StageParts
    let pair: Communicator
    /// [2][window]: where the partner's gradients and weights land, a piece each, while the
    /// other's piece is used.
    private let incoming: [MessageBuffer<Float>]
    /// [2][window]: the owned stage's weights on their way out, a piece each.
    private let outgoing: [MessageBuffer<Float>]
    /// The most floats a piece carries (pieces are cut at this size).
    static let windowFloats = 1 << 18

    /// Floats of each of the four windows for stages of `stageFloats` parameters at most: a piece,
    /// or the whole stage where it is smaller.
    static func window(stageFloats: Int) -> Int { max(1, min(windowFloats, stageFloats)) }

    /// Collective over `pair` (two ranks, each passing the stage the other passes as `mirrored`
    /// as its `owned`): the messages go over a duplicate of it, apart from any other traffic.
    public init(owned: StageParts, mirrored: StageParts, pair: Communicator) throws {
        precondition(pair.size == 2, "a mirror pair is two ranks, got \(pair.size)")
        precondition(owned.gradients.isEmpty == mirrored.gradients.isEmpty, "both stages summed by the pair, or neither")
        self.owned = owned
        self.mirrored = mirrored
        self.pair = try pair.duplicate()
        // Every piece is of one of the two stages (gradients of the owned one, weights of either).
        let window = Self.window(stageFloats: max(owned.values.count, mirrored.values.count))
        incoming = (0..<2).map { _ in MessageBuffer(uninitializedCount: window) }
        outgoing = (0..<2).map { _ in MessageBuffer(uninitializedCount: window) }
    }

    /// Whether the pair sums the gradients itself (EP 1), rather than the replica group's allreduce.
    public var sumsGradients: Bool { !owned.gradients.isEmpty }

    private var partner: Int { 1 - pair.rank }

    /// `0..<count` in window-sized pieces.
    static func pieces(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: windowFloats).map { $0..<min($0 + windowFloats, count) }
    }

    /// After the schedule, where the pair sums: the mirrored stage's gradients go to the partner,
    /// and the partner's gradients of the owned stage are added to this rank's. Only the owned
    /// stage's gradients are the sum afterwards. Returns the bytes this rank sent.
    public func reduceGradients() throws -> Int {
        var sends: [Request] = [], bytes = 0
        for (k, part) in mirrored.gradients.enumerated() {
            part.gather()
            // Messages between two ranks with one tag arrive in the order they were sent.
            for piece in Self.pieces(part.count) { sends.append(try pair.isend(part.buffer, range: piece, to: partner, tag: k)) }
            bytes += part.count * MemoryLayout<Float>.size
        }
        // Where the buffer's layout is the gradients' own, the partner's part goes straight into
        // them: the owned stage is neither gathered nor scattered (about 1.5 ms of a step at PP 2).
        let inPlace = owned.gradients.map(\.addsInPlace)
        for (part, direct) in zip(owned.gradients, inPlace) where !direct { part.gather() }
        for (k, part) in owned.gradients.enumerated() {
            let pieces = Self.pieces(part.count)
            var next = try pieces.first.map { try pair.irecv(into: incoming[0], range: 0..<$0.count, from: partner, tag: k) }
            for (i, piece) in pieces.enumerated() {
                _ = try next!.wait()
                next = i + 1 < pieces.count ? try pair.irecv(into: incoming[(i + 1) % 2], range: 0..<pieces[i + 1].count, from: partner, tag: k) : nil
                let other = UnsafePointer(incoming[i % 2].pointer.baseAddress!)
                if inPlace[k] {
                    part.add(piece, from: other)
                } else {
                    let sum = part.buffer.pointer.baseAddress! + piece.lowerBound
                    for j in 0..<piece.count { sum[j] += other[j] }
                }
            }
            if !inPlace[k] { part.scatter() }
        }
        try Requests.waitAll(sends)
        return bytes
    }

    /// After AdamW updated the owned stage: its weights go to the partner and the mirrored
    /// stage's come from it, in visiting order, a window at a time each way. Returns the bytes
    /// this rank sent.
    public func shareWeights() throws -> Int {
        let sendPieces = Self.pieces(owned.values.count), receivePieces = Self.pieces(mirrored.values.count)
        let tag = 100
        var sends: [Request?] = [nil, nil]
        for i in 0..<max(sendPieces.count, receivePieces.count) {
            let receive = i < receivePieces.count
                ? try pair.irecv(into: incoming[i % 2], range: 0..<receivePieces[i].count, from: partner, tag: tag) : nil
            if i < sendPieces.count {
                // The window's previous piece must have left before it is refilled.
                if let earlier = sends[i % 2] { _ = try earlier.wait() }
                owned.values.copy(sendPieces[i], into: outgoing[i % 2].pointer.baseAddress!)
                sends[i % 2] = try pair.isend(outgoing[i % 2], range: 0..<sendPieces[i].count, to: partner, tag: tag)
            }
            if let receive {
                _ = try receive.wait()
                mirrored.values.assign(receivePieces[i], from: incoming[i % 2].pointer.baseAddress!)
            }
        }
        for case let send? in sends { _ = try send.wait() }
        return owned.values.count * MemoryLayout<Float>.size
    }

    /// The owned stage's AdamW states go to the partner, and the mirrored stage's come back, so
    /// that both copies of each stage hold the same moments (a checkpoint's shards stay complete:
    /// each rank writes both its stages). `owned` and the partner's `mirrored` list the same
    /// optimizers in the same order. Returns the mirrored stage's states.
    ///
    /// Each moment array goes over by itself, sent from where it lies and received into the
    /// array the state keeps (`sendReceive`): the checkpoint that asks for them holds the
    /// partner's moments and nothing besides. (Packed into one message each way, the send copy,
    /// the receive buffer and the arrays cut from it held three times the moments at once: 195 MB
    /// beside a 195 MB shard of a rank of 16 M parameters.)
    public func exchange(states: [AdamW.State], mirroredCount: Int) throws -> [AdamW.State] {
        let header = states.flatMap { [Int64($0.steps), Int64($0.m.count)] }
        let incoming = try pair.sendReceive(header, to: partner, sendTag: 101, receiveCount: 2 * mirroredCount, from: partner, receiveTag: 101)
        var received: [AdamW.State] = []
        // The lists may differ in length (the stages hold different expert layers): past the
        // shorter one a side sends, or receives, nothing.
        for k in 0..<max(states.count, mirroredCount) {
            let count = k < mirroredCount ? Int(incoming[2 * k + 1]) : 0
            let m = try pair.sendReceive(k < states.count ? states[k].m : [], to: partner, sendTag: 102, receiveCount: count, from: partner, receiveTag: 102)
            let v = try pair.sendReceive(k < states.count ? states[k].v : [], to: partner, sendTag: 103, receiveCount: count, from: partner, receiveTag: 103)
            if k < mirroredCount { received.append(AdamW.State(m: m, v: v, steps: Int(incoming[2 * k]))) }
        }
        return received
    }
}

/// Where AdamW is sharded over the mirror pairs.
public enum OptimizerSharding {
    /// Whether the grid has mirror pairs to shard over: DualPipe's.
    public static func applies(to configuration: PipelineConfiguration) -> Bool {
        configuration.kind == .dualpipe
    }

    /// The mirror pair of this rank: the replica group at EP 1; at EP > 1 the two ranks of the
    /// group at this EP rank (pp and PP-1-pp). Collective over `grid.replicas`; nil for a grid
    /// without pairs.
    public static func pair(configuration: PipelineConfiguration, grid: RankGrid) throws -> Communicator? {
        guard applies(to: configuration) else { return nil }
        return configuration.expertParallel == 1 ? grid.replicas : try grid.replicas.split(color: grid.expertRank, key: grid.pipelineRank)
    }

    /// `requested`, or by default whether each pair shares a node: across nodes the weights'
    /// transfer would cross the link after the schedule (and at EP 1 the unsharded sums swap one
    /// stage during it). Throws when sharding was asked for where it does not apply. Collective
    /// over `pair` when nothing was requested.
    public static func resolve(_ requested: Bool?, configuration: PipelineConfiguration, pair: Communicator?) throws -> Bool {
        guard let pair else {
            if requested == true { throw PipelineError(refusal(configuration)) }
            return false
        }
        if let requested { return requested }
        return try pair.splitSharedMemory().size == pair.size
    }

    /// What `resolve` will answer, from the node of every world rank before the grid exists (for
    /// the memory check): `requested`, or whether every mirror pair, all its EP ranks, shares a
    /// node; false for a grid without pairs.
    public static func expected(_ requested: Bool?, configuration: PipelineConfiguration, nodeOfRank: [Int]) -> Bool {
        guard applies(to: configuration) else { return false }
        return requested ?? configuration.grid.mirrorPairsAcrossNodes(nodeOfRank: nodeOfRank).isEmpty
    }

    /// Why `--shard-optimizer` cannot run on this grid.
    public static func refusal(_ configuration: PipelineConfiguration) -> String {
        "--shard-optimizer shards AdamW over DualPipe's mirror pairs; \(configuration.kind.title) holds one copy of each stage"
    }
}
