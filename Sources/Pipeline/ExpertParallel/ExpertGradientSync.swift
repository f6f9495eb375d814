import MPI
import Model

/// Sums the gradients of every copy of each logical expert: its replicas on the EP group and,
/// for DualPipe, the same slots on the mirror pipeline rank. Each rank adds its slots' gradients
/// into a buffer laid out by logical expert, `[layers][experts][parameters per expert]`, one
/// allreduce over the replica communicator sums them, and every slot takes its expert's sum back,
/// so all replicas of an expert leave the step with the same gradient.
public final class ExpertGradientSync: GradientGathering {
    let layers: [ExpertSlots]
    let replicas: Communicator?
    /// layers * experts * parameters per expert
    let count: Int
    /// [count]: allocated when first used (never where every gradient is already its expert's sum,
    /// or where a mirror pair adds the partner's part in place).
    private(set) lazy var buffer = MessageBuffer<Float>(count: count, repeating: 0)
    let perExpert: Int
    /// The partner's sums, for a nonblocking sum between two ranks.
    private lazy var received = MessageBuffer<Float>(uninitializedCount: count)

    /// `layers`: the MoE layers of this rank's stages, in increasing stage then block order (the
    /// same order on every rank of the replica group).
    public init(layers: [ExpertSlots], replicas: Communicator?) {
        self.layers = layers
        self.replicas = replicas
        perExpert = layers.first?.parametersPerExpert ?? 0
        count = layers.reduce(0) { $0 + $1.logicalExperts } * perExpert
    }

    /// Returns the bytes this rank contributed to the reduction.
    @discardableResult
    public func synchronise() throws -> Int {
        let communicates = (replicas?.size ?? 1) > 1
        // Alone with one slot per expert (1F1B and the like at EP 1) every gradient is already its
        // expert's sum; the copies in and out cost 0.4 ms a step on the default model.
        guard count > 0, communicates || hasLocalReplicas else { return 0 }
        gather()
        // Blocking, as GradientSync's (coll/tuned is the faster path here).
        if let replicas, communicates { try replicas.allreduce(buffer, op: .sum) }
        scatter()
        return communicates ? count * MemoryLayout<Float>.size : 0
    }

    /// The early form of the sum, as `GradientSync.prepareSwap`: the local slots added into the
    /// buffer, and the swap with the other copy of the pair.
    func prepareSwap() -> PairSwap? {
        guard let replicas, count > 0 else { return nil }
        gather()
        return PairSwap(buffer: buffer, received: received, pair: replicas) { [self] in scatter() }
    }

    /// Each logical expert's local slots added into its place in the buffer. A first local slot is
    /// copied in and the others added, so only the experts with no slot here are zero-filled: one
    /// pass over the buffer fewer.
    func gather() {
        let base = buffer.pointer.baseAddress!
        var layerStart = 0
        for layer in layers {
            let local = Set(layer.localSlots.map { layer.phy2log[$0] })
            for expert in 0..<layer.logicalExperts where !local.contains(expert) {
                (base + layerStart + expert * perExpert).update(repeating: 0, count: perExpert)
            }
            layerStart += layer.logicalExperts * perExpert
        }
        walk { gradient, offset, first in
            let sum = base + offset
            gradient.withUnsafeBufferPointer { g in
                if first { sum.update(from: g.baseAddress!, count: g.count) } else { for i in 0..<g.count { sum[i] += g[i] } }
            }
        }
    }

    /// Every local slot takes its logical expert's sum.
    func scatter() {
        let base = buffer.pointer.baseAddress!
        walk { gradient, offset, _ in
            gradient.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base + offset, count: $0.count) }
        }
    }

    /// Whether some logical expert has two slots on this rank (placements change when the experts
    /// are rebalanced): their gradients must be summed even where no other rank holds a copy.
    private var hasLocalReplicas: Bool {
        layers.contains { layer in
            let local = layer.localSlots.map { layer.phy2log[$0] }
            return Set(local).count < local.count
        }
    }

    /// With one local slot per logical expert, every element of the buffer is that slot's own.
    var addsInPlace: Bool { !hasLocalReplicas }

    /// Visits every local slot's gradients with the offset of its logical expert's sum in the buffer.
    func visitGradients(_ body: (inout [Float], Int) -> Void) {
        walk { gradient, offset, _ in body(&gradient, offset) }
    }

    /// Visits every local slot's gradients with the offset of its logical expert's sum in the
    /// buffer, and whether the slot is its expert's first on this rank.
    private func walk(_ body: (inout [Float], Int, Bool) -> Void) {
        var layerStart = 0
        for layer in layers {
            var seen = Set<Int>()
            for (k, expert) in layer.experts.enumerated() {
                let logical = layer.phy2log[layer.localSlots.lowerBound + k]
                let first = seen.insert(logical).inserted
                var offset = layerStart + logical * perExpert
                expert.visitParameters { p in
                    body(&p.gradient.scalars, offset, first)
                    offset += p.gradient.count
                }
            }
            layerStart += layer.logicalExperts * perExpert
        }
    }
}
