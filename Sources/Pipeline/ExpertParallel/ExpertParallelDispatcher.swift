import MPI
import Model
import Tensor

/// The expert dispatcher of one MoE layer over an EP group: each row bound for logical expert e
/// goes to one of e's replicas (a hot expert's rows split evenly over its replicas, in row
/// order), the per-slot counts travel first, then the rows by all-to-all to the ranks holding
/// those slots; each rank runs its slots on what it received, and the outputs come back by the
/// reverse all-to-all. B runs the same way with gradients; W stays on the local slots. Every EP
/// rank of a pipeline rank calls the same layers in the same order (they run the same program),
/// so the collectives line up.
public final class ExpertParallelDispatcher: ExpertDispatcher {
    public let slots: ExpertSlots
    /// The EP communicator; nil or of size 1 when every slot is local.
    let group: Communicator?
    let hidden: Int
    private var routes: [Int: Route] = [:]
    /// Seconds spent in dispatch and combine exchanges since the last `resetTiming`, and the part
    /// of it blocked waiting for them to complete.
    public private(set) var exchangeSeconds = 0.0
    public private(set) var exchangeWaitSeconds = 0.0
    /// Rows sent to and received from each EP rank by the last dispatch (for benchmarks).
    public private(set) var lastExchangeRows: (send: [Int], receive: [Int]) = ([], [])

    /// Where a micro-batch's rows went: what the backward retraces.
    struct Route {
        /// Send position i holds batch row `order[i]` (rows grouped by slot, slots ascending).
        var order: [Int]          // [assignments]
        var sendRows: [Int]       // [EP] rows sent to each rank
        var receiveRows: [Int]    // [EP] rows received from each rank
        /// Positions in the receive buffer of each local slot's rows (sources ascending).
        var slotRows: [[Int]]     // [slotsPerRank][rows]
    }

    public init(slots: ExpertSlots, group: Communicator?, hidden: Int) {
        self.slots = slots
        self.group = group
        self.hidden = hidden
    }

    public var expertCount: Int { slots.logicalExperts }

    public func forward(_ mb: Int, _ batch: ExpertBatch) -> Tensor {
        precondition(batch.counts.count == slots.logicalExperts, "dispatcher: \(batch.counts.count) counts for \(slots.logicalExperts) experts")
        let route = makeRoute(batch.counts)
        lastExchangeRows = (route.sendRows, route.receiveRows)
        routes.store(mb, route, "expert-parallel dispatch forward")
        return runSlots(gatherRows(batch.rows, route.order), route) { k, rows in slots.experts[k].forward(mb, rows) }
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        guard let route = routes[mb] else { preconditionFailure("expert-parallel dispatch backwardInput: no route for micro-batch \(mb)") }
        return runSlots(gatherRows(outputGradient, route.order), route) { k, rows in slots.experts[k].backwardInput(mb, rows) }
    }

    public func backwardWeight(_ mb: Int) {
        _ = routes.take(mb, "expert-parallel dispatch backwardWeight")
        for expert in slots.experts { expert.backwardWeight(mb) }
    }

    public func discard(_ mb: Int) {
        routes[mb] = nil
        for expert in slots.experts { expert.discard(mb) }
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        for expert in slots.experts { expert.visitParameters(body) }
    }

    public func resetTiming() {
        exchangeSeconds = 0
        exchangeWaitSeconds = 0
    }

    private var ranks: Int { group?.size ?? 1 }

    /// Assigns rows to slots and learns, from one count exchange, what each local slot receives.
    private func makeRoute(_ counts: [Int]) -> Route {
        let replicas = slots.replicas, s = slots.slotsPerRank
        var perSlot = [[Int]](repeating: [], count: slots.slots)
        var start = 0
        for (e, count) in counts.enumerated() {
            let copies = replicas[e]
            for j in 0..<count { perSlot[copies[j * copies.count / count]].append(start + j) }
            start += count
        }
        let slotCounts = perSlot.map(\.count) // [R]: rank d's block is slots d*s ..< (d+1)*s
        let received = exchangeCounts(slotCounts) // [EP * s]: source r's counts for my slots
        var slotRows = [[Int]](repeating: [], count: s)
        var position = 0
        for source in 0..<ranks {
            for k in 0..<s {
                let n = received[source * s + k]
                slotRows[k] += Array(position..<(position + n))
                position += n
            }
        }
        return Route(order: perSlot.flatMap { $0 },
                     sendRows: (0..<ranks).map { d in slotCounts[(d * s)..<((d + 1) * s)].reduce(0, +) },
                     receiveRows: (0..<ranks).map { r in received[(r * s)..<((r + 1) * s)].reduce(0, +) },
                     slotRows: slotRows)
    }

    /// Sends rows (in route order) to their slots' ranks, runs `body` on each local slot's rows,
    /// sends the results back and returns them in batch row order.
    private func runSlots(_ sendOrdered: Tensor, _ route: Route, _ body: (Int, Tensor) -> Tensor) -> Tensor {
        let received = Tensor(shape: [route.receiveRows.reduce(0, +), hidden],
                              scalars: exchange(sendOrdered.scalars, sendRows: route.sendRows, receiveRows: route.receiveRows))
        var results = Tensor(shape: received.shape)
        for (k, rows) in route.slotRows.enumerated() {
            let output = body(k, gatherRows(received, rows))
            scatterAddRows(output, rows, into: &results)
        }
        let back = Tensor(shape: sendOrdered.shape,
                          scalars: exchange(results.scalars, sendRows: route.receiveRows, receiveRows: route.sendRows))
        var out = Tensor(shape: sendOrdered.shape)
        scatterAddRows(back, route.order, into: &out)
        return out
    }

    private func exchangeCounts(_ slotCounts: [Int]) -> [Int] {
        guard let group, group.size > 1 else { return slotCounts }
        do { return try group.alltoall(slotCounts) } catch { fatalExchange(error) }
    }

    /// One all-to-all of rows: posted, then completed (the overlap executor can later run other
    /// work between the two).
    private func exchange(_ values: [Float], sendRows: [Int], receiveRows: [Int]) -> [Float] {
        guard let group, group.size > 1 else { return values }
        let start = monotonicSeconds()
        do {
            let send = MessageBuffer(copying: values)
            let receive = MessageBuffer<Float>(count: receiveRows.reduce(0, +) * hidden, repeating: 0)
            let request = try group.ialltoallv(send: send, sendCounts: sendRows.map { $0 * hidden },
                                               receive: receive, receiveCounts: receiveRows.map { $0 * hidden })
            let posted = monotonicSeconds()
            try request.wait()
            let end = monotonicSeconds()
            exchangeSeconds += end - start
            exchangeWaitSeconds += end - posted
            return receive.array
        } catch {
            fatalExchange(error)
        }
    }

    /// The layer API cannot throw: an MPI failure inside an exchange ends the job here, naming it.
    private func fatalExchange(_ error: Error) -> Never {
        printError("rank \(group.map { "\($0.rank) of the EP group" } ?? "?"): error: expert exchange of block \(slots.block) failed: \(error)")
        Environment.abortJob()
    }
}
