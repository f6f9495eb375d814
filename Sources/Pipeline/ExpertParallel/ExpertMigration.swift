import MPI
import Model

/// Carries out a new placement over the EP group: a slot whose expert changes receives that
/// expert's weights and AdamW moments from a slot that held it before (on its own rank if one
/// did, else on its node, else the lowest-numbered), by MPI; unchanged slots move nothing. Every
/// rank derives the same plan from the same old and new layouts, so no plan is exchanged.
public enum ExpertMigration {
    public struct Outcome: Sendable, Equatable {
        /// [layers] slots of the group whose expert changed.
        public var movedSlots: [Int]
        /// Bytes this rank sent.
        public var sentBytes: Int
    }

    /// One slot's refill: destination slot p takes the expert of source slot q (old layout).
    struct Move { var destination: Int; var source: Int }

    /// The plan for one layer. `nodeOfRank[r]` is the node of EP rank r.
    static func plan(old: [Int], new: [Int], slotsPerRank s: Int, nodeOfRank: [Int]) -> [Move] {
        new.indices.compactMap { p in
            guard new[p] != old[p] else { return nil }
            let holders = old.indices.filter { old[$0] == new[p] }
            precondition(!holders.isEmpty, "expert \(new[p]) is placed but no slot held it: every expert must keep a replica")
            let d = p / s
            let source = holders.first { $0 / s == d }
                ?? holders.first { nodeOfRank[$0 / s] == nodeOfRank[d] }
                ?? holders[0]
            return Move(destination: p, source: source)
        }
    }

    /// Moves every layer to `newRows[layer]`. `optimizers[layer][k]` is local slot k's AdamW.
    public static func run(layers: [ExpertSlots], newRows: [[Int]], optimizers: inout [[AdamW]],
                           group: Communicator?, nodeOfRank: [Int]) throws -> Outcome {
        precondition(layers.count == newRows.count && layers.count == optimizers.count, "one new row and optimizer list per layer")
        var outcome = Outcome(movedSlots: [], sentBytes: 0)
        var receives: [(layer: Int, slot: Int, buffer: MessageBuffer<Float>, request: Request)] = []
        var sends: [Request] = []
        var local: [(layer: Int, slot: Int, payload: [Float])] = []
        for (l, layer) in layers.enumerated() {
            let moves = plan(old: layer.phy2log, new: newRows[l], slotsPerRank: layer.slotsPerRank, nodeOfRank: nodeOfRank)
            outcome.movedSlots.append(moves.count)
            let me = layer.rank, first = layer.localSlots.lowerBound
            for move in moves {
                let to = layer.rank(ofSlot: move.destination), from = layer.rank(ofSlot: move.source)
                let tag = l * layer.slots + move.destination
                if from == me {
                    let payload = pack(layer.experts[move.source - first], optimizers[l][move.source - first])
                    if to == me {
                        local.append((l, move.destination, payload))
                    } else {
                        guard let group else { preconditionFailure("a move between ranks without an EP communicator") }
                        sends.append(try group.isend(payload, to: to, tag: tag))
                        outcome.sentBytes += payload.count * MemoryLayout<Float>.size
                    }
                } else if to == me {
                    guard let group else { preconditionFailure("a move between ranks without an EP communicator") }
                    let count = layer.parametersPerExpert * (optimizers[l][0].steps > 0 ? 3 : 1)
                    let buffer = MessageBuffer<Float>(count: count, repeating: 0)
                    receives.append((l, move.destination, buffer, try group.irecv(into: buffer, from: from, tag: tag)))
                }
            }
        }
        try Requests.waitAll(receives.map(\.request) + sends)
        var incoming: [[Int: [Float]]] = layers.map { _ in [:] }
        for r in receives { incoming[r.layer][r.slot] = r.buffer.array }
        for l in local { incoming[l.layer][l.slot] = l.payload }
        for (l, layer) in layers.enumerated() {
            let first = layer.localSlots.lowerBound
            var experts = layer.experts
            for (slot, payload) in incoming[l] {
                let expert = layer.makeExpert(newRows[l][slot])
                unpack(payload, into: expert, optimizer: &optimizers[l][slot - first])
                experts[slot - first] = expert
            }
            layer.install(phy2log: newRows[l], experts: experts)
        }
        return outcome
    }

    /// [parameters | first moments | second moments] of one expert (moments only once AdamW has stepped).
    static func pack(_ expert: SwiGLU, _ optimizer: AdamW) -> [Float] {
        var payload: [Float] = []
        expert.visitParameters { payload += $0.value.scalars }
        if optimizer.steps > 0 { payload += optimizer.state.m + optimizer.state.v }
        return payload
    }

    static func unpack(_ payload: [Float], into expert: SwiGLU, optimizer: inout AdamW) {
        var offset = 0
        expert.visitParameters { p in
            p.value.scalars = Array(payload[offset..<(offset + p.value.count)])
            offset += p.value.count
        }
        let n = offset
        if optimizer.steps > 0 {
            precondition(payload.count == 3 * n, "expert payload of \(payload.count) floats for \(n) parameters with moments")
            optimizer.state = AdamW.State(m: Array(payload[n..<(2 * n)]), v: Array(payload[(2 * n)...]), steps: optimizer.steps)
        }
    }
}
