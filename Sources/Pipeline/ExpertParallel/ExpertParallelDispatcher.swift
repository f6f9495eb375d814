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
    /// Micro-batch -> the rows' exchange posted by a `start` and not yet finished.
    private var inFlight: [Int: Exchange] = [:]
    /// Seconds spent posting and completing dispatch and combine exchanges since the last
    /// `resetTiming`, and the part of it blocked waiting for them to complete.
    public private(set) var exchangeSeconds = 0.0
    public private(set) var exchangeWaitSeconds = 0.0
    /// Watchdog: an exchange that takes longer than this ends the job, naming it (nil: none).
    public var commTimeout: Double?
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

    /// Routes the rows, exchanges the per-slot counts and posts the rows' all-to-all.
    public func startForward(_ mb: Int, _ batch: ExpertBatch) {
        precondition(batch.counts.count == slots.logicalExperts, "dispatcher: \(batch.counts.count) counts for \(slots.logicalExperts) experts")
        let route = makeRoute(batch.counts)
        lastExchangeRows = (route.sendRows, route.receiveRows)
        routes.store(mb, route, "expert-parallel dispatch forward")
        inFlight.store(mb, post(batch.rows, route), "expert-parallel dispatch forward")
    }

    /// Completes the dispatch, runs the local slots, posts their outputs' way back.
    public func computeForward(_ mb: Int) {
        compute(mb, "computeForward") { k, rows in slots.experts[k].forward(mb, rows) }
    }

    /// Completes the combine: each row's expert output in batch row order.
    public func finishForward(_ mb: Int) -> Tensor { finish(mb, "finishForward") }

    public func startBackward(_ mb: Int, _ outputGradient: Tensor) {
        guard let route = routes[mb] else { preconditionFailure("expert-parallel dispatch startBackward: no route for micro-batch \(mb)") }
        inFlight.store(mb, post(outputGradient, route), "expert-parallel dispatch startBackward")
    }

    public func computeBackward(_ mb: Int) {
        compute(mb, "computeBackward") { k, rows in slots.experts[k].backwardInput(mb, rows) }
    }

    public func finishBackward(_ mb: Int) -> Tensor { finish(mb, "finishBackward") }

    public func backwardWeight(_ mb: Int) {
        _ = routes.take(mb, "expert-parallel dispatch backwardWeight")
        for expert in slots.experts { expert.backwardWeight(mb) }
    }

    public func discard(_ mb: Int) {
        routes[mb] = nil
        inFlight[mb] = nil
        for expert in slots.experts { expert.discard(mb) }
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        for expert in slots.experts { expert.visitParameters(body) }
    }

    /// Lets MPI move the exchanges in flight along (MPI_Test on each); called between compute
    /// phases, since Open MPI progresses nonblocking collectives only inside MPI calls.
    public func progress() {
        for exchange in inFlight.values { _ = try? exchange.request?.test() }
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

    /// An all-to-all of rows in flight; it owns both buffers until it completes.
    struct Exchange {
        var request: Request?     // nil when every slot is local: `receive` already holds the rows
        var send: MessageBuffer<Float>
        var receive: MessageBuffer<Float>
        var posted: Double
    }

    /// Packs `rows` (in batch order) into route order, straight into the send buffer, and posts
    /// the all-to-all to the slots' ranks.
    private func post(_ rows: Tensor, _ route: Route) -> Exchange {
        let send = MessageBuffer<Float>(uninitializedCount: route.order.count * hidden)  // every row packed below
        rows.scalars.withUnsafeBufferPointer { x in
            for (i, row) in route.order.enumerated() {
                (send.pointer.baseAddress! + i * hidden).update(from: x.baseAddress! + row * hidden, count: hidden)
            }
        }
        return start(send, sendRows: route.sendRows, receiveRows: route.receiveRows)
    }

    /// Completes micro-batch `mb`'s dispatch, runs `body` on each local slot's rows, and posts the
    /// results back to where the rows came from.
    private func compute(_ mb: Int, _ phase: String, _ body: (Int, Tensor) -> Tensor) {
        guard let route = routes[mb] else { preconditionFailure("expert-parallel dispatch \(phase): no route for micro-batch \(mb)") }
        let received = complete(inFlight.take(mb, "expert-parallel dispatch \(phase)"))
        let results = MessageBuffer<Float>(uninitializedCount: received.count)  // every slot's rows written below
        for (k, positions) in route.slotRows.enumerated() {
            var rows = Tensor(uninitializedShape: [positions.count, hidden])
            rows.scalars.withUnsafeMutableBufferPointer { out in
                for (i, p) in positions.enumerated() {
                    (out.baseAddress! + i * hidden).update(from: received.pointer.baseAddress! + p * hidden, count: hidden)
                }
            }
            let output = body(k, rows)
            output.scalars.withUnsafeBufferPointer { y in
                for (i, p) in positions.enumerated() {
                    (results.pointer.baseAddress! + p * hidden).update(from: y.baseAddress! + i * hidden, count: hidden)
                }
            }
        }
        inFlight.store(mb, start(results, sendRows: route.receiveRows, receiveRows: route.sendRows), "expert-parallel dispatch \(phase)")
    }

    /// Completes micro-batch `mb`'s combine and puts the rows back in batch order.
    private func finish(_ mb: Int, _ phase: String) -> Tensor {
        guard let route = routes[mb] else { preconditionFailure("expert-parallel dispatch \(phase): no route for micro-batch \(mb)") }
        let back = complete(inFlight.take(mb, "expert-parallel dispatch \(phase)"))
        var out = Tensor(uninitializedShape: [route.order.count, hidden])
        out.scalars.withUnsafeMutableBufferPointer { y in
            for (i, row) in route.order.enumerated() {
                (y.baseAddress! + row * hidden).update(from: back.pointer.baseAddress! + i * hidden, count: hidden)
            }
        }
        return out
    }

    private func exchangeCounts(_ slotCounts: [Int]) -> [Int] {
        guard let group, group.size > 1 else { return slotCounts }
        do { return try group.alltoall(slotCounts) } catch { fatalExchange(error) }
    }

    /// Posts one all-to-all of rows (MPI_Ialltoallv).
    private func start(_ send: MessageBuffer<Float>, sendRows: [Int], receiveRows: [Int]) -> Exchange {
        let begin = monotonicSeconds()
        guard let group, group.size > 1 else { return Exchange(request: nil, send: send, receive: send, posted: begin) }
        do {
            let receive = MessageBuffer<Float>(uninitializedCount: receiveRows.reduce(0, +) * hidden)  // all of it received
            let request = try group.ialltoallv(send: send, sendCounts: sendRows.map { $0 * hidden },
                                               receive: receive, receiveCounts: receiveRows.map { $0 * hidden })
            let posted = monotonicSeconds()
            exchangeSeconds += posted - begin
            return Exchange(request: request, send: send, receive: receive, posted: posted)
        } catch {
            fatalExchange(error)
        }
    }

    /// Waits for an exchange and returns what arrived.
    private func complete(_ exchange: Exchange) -> MessageBuffer<Float> {
        guard let request = exchange.request else { return exchange.receive }
        let begin = monotonicSeconds()
        do {
            if let commTimeout {
                guard try pollUntilDone(timeout: commTimeout, { try request.test() != nil }) else {
                    printError("rank \(group.map { "\($0.rank) of the EP group" } ?? "?"): watchdog: the expert all-to-all of block \(slots.block) waited \(String(format: "%.1f", monotonicSeconds() - begin)) s (--comm-timeout); ending the job")
                    Environment.abortJob()
                }
            } else {
                try request.wait()
            }
        } catch { fatalExchange(error) }
        let waited = monotonicSeconds() - begin
        exchangeSeconds += waited
        exchangeWaitSeconds += waited
        return exchange.receive
    }

    /// The layer API cannot throw: an MPI failure inside an exchange ends the job here, naming it.
    private func fatalExchange(_ error: Error) -> Never {
        printError("rank \(group.map { "\($0.rank) of the EP group" } ?? "?"): error: expert exchange of block \(slots.block) failed: \(error)")
        Environment.abortJob()
    }
}
