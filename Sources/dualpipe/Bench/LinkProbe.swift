#if canImport(Glibc)
import Glibc
#endif
import MPI
import Pipeline
import Schedule

/// `bench schedules`' measure of the links its schedules' messages take: for each pair of world
/// ranks that some schedule's pipeline neighbours occupy, what one activation costs between them.
/// On two nodes a pipeline has links inside a node and links across, and the simulator is given
/// each its own.
struct LinkProbe {
    /// Two world ranks, the lower first.
    struct Pair: Hashable, Comparable, CustomStringConvertible {
        let low: Int, high: Int
        init(_ a: Int, _ b: Int) { (low, high) = (min(a, b), max(a, b)) }
        static func < (a: Pair, b: Pair) -> Bool { (a.low, a.high) < (b.low, b.high) }
        var description: String { "\(low) <-> \(high)" }
    }

    /// Seconds: one activation's latency (half the median ping-pong) and the time it holds the link
    /// in a stream (`Costs.transfer`).
    struct Cost { let latency: Double, transfer: Double }

    /// Every measured pair's cost, the same on every rank.
    let costs: [Pair: Cost]

    /// The world ranks each message of `schedule` joins, its pipeline rank p being world rank
    /// `worldRank(p)`.
    static func pairs(of schedule: Schedule, worldRank: (Int) -> Int) -> Set<Pair> {
        var pairs = Set<Pair>()
        for case .postSend(let t) in schedule.lowered().programs.joined() {
            pairs.insert(Pair(worldRank(t.source), worldRank(t.destination)))
        }
        return pairs
    }

    /// Measures each pair in turn (in order, every rank meeting before the next, so no two pairs
    /// share the wire), with messages of `floats`. The ranks outside the pair wait asleep: on more
    /// ranks than cores a rank spinning in a blocking collective takes the core a measured rank
    /// needs, and a ping-pong inside a node then measured milliseconds. Collective: every rank
    /// passes the same pairs.
    init(world: Communicator, pairs: [Pair], floats: Int) throws {
        // [pair][latency, transfer], filled by the pair's lower rank, then shared.
        var measured = [Double](repeating: 0, count: 2 * pairs.count)
        for (k, pair) in pairs.enumerated() {
            try Self.meetAsleep(world)
            guard world.rank == pair.low || world.rank == pair.high else { continue }
            let latency = try Self.latency(world, pair, floats: floats)
            let transfer = try Self.transfer(world, pair, floats: floats, alone: try Self.latency(world, pair, floats: 1))
            if world.rank == pair.low { (measured[2 * k], measured[2 * k + 1]) = (latency, transfer) }
        }
        try Self.meetAsleep(world)
        if !pairs.isEmpty { try world.allreduce(&measured, op: .max) }
        costs = Dictionary(uniqueKeysWithValues: pairs.enumerated().map { k, pair in
            (pair, Cost(latency: measured[2 * k], transfer: measured[2 * k + 1]))
        })
    }

    /// A barrier whose waiting ranks sleep between polls rather than spin.
    private static func meetAsleep(_ world: Communicator) throws {
        let request = try world.iallreduce(MessageBuffer<Double>(count: 1, repeating: 0), op: .max)
        while try request.test() == nil { usleep(200) }
    }

    /// The links of `schedule`'s ranks, in the unit of `scale` seconds (1000: milliseconds): a
    /// pair's measurement (from its lower rank) for both directions, as the two ranks' traffic
    /// crosses the same kind of link both ways; a pair no message joins costs 0.
    func links(of schedule: Schedule, worldRank: (Int) -> Int, scale: Double) -> Links {
        Links(ranks: schedule.ranks) { from, to in
            let cost = costs[Pair(worldRank(from), worldRank(to))]
            return (latency: (cost?.latency ?? 0) * scale, transfer: (cost?.transfer ?? 0) * scale)
        }
    }

    /// What rank 0 prints above the table: one line for one link, a table for more.
    func report(floats: Int) -> String {
        let pairs = costs.keys.sorted()
        let ms = { (seconds: Double) in decimal(seconds * 1000, 3) }
        guard pairs.count > 1 else {
            guard let pair = pairs.first, let cost = costs[pair] else { return "one rank: no messages" }
            return "one message (\(floats) floats) ranks \(pair): \(ms(cost.latency)) ms (half the median ping-pong), the simulator's latency; "
                + "\(ms(cost.transfer)) ms apart in a stream, the time it holds the link (messages on one link take turns)"
        }
        let rows = [["link", "latency ms", "in a stream ms"]] + pairs.map { [$0.description, ms(costs[$0]!.latency), ms(costs[$0]!.transfer)] }
        return "one message (\(floats) floats) on each link the schedules' messages take (world ranks): its latency, half the median "
            + "ping-pong, and how far apart such messages arrive in a stream, the time each holds the link (messages on one link "
            + "take turns); the simulator costs each message on its own link\n" + renderTable(rows, textColumns: 1).dropLast()
    }

    /// Seconds one activation takes between the pair: half the median of 9 ping-pongs (after 3
    /// untimed), as the pair's lower rank measured it. The pair's two ranks only.
    private static func latency(_ world: Communicator, _ pair: Pair, floats: Int) throws -> Double {
        let message = [Float](repeating: 1, count: floats)
        let peer = world.rank == pair.low ? pair.high : pair.low
        var roundTrips: [Double] = []
        for trip in 0..<12 {
            let start = monotonicSeconds()
            if world.rank == pair.low {
                try world.send(message, to: peer, tag: 7)
                _ = try world.receive(Float.self, capacity: floats, from: peer, tag: 7)
            } else {
                _ = try world.receive(Float.self, capacity: floats, from: peer, tag: 7)
                try world.send(message, to: peer, tag: 7)
            }
            if trip >= 3 { roundTrips.append(monotonicSeconds() - start) }
        }
        return median(roundTrips) / 2
    }

    /// Seconds one activation holds the link from the pair's lower rank to its higher when
    /// activations follow each other: a burst of 8 sent at once and answered by one float, less
    /// the two crossings of a lone float (`alone`), over 8; the median of 5 bursts after 1 untimed.
    /// A link that lets a burst through faster than its rate (a token bucket) gives a lone message
    /// the ping-pong's time and a stream this one, as the lower rank measured it. The pair's two
    /// ranks only.
    private static func transfer(_ world: Communicator, _ pair: Pair, floats: Int, alone: Double) throws -> Double {
        let burst = 8
        let peer = world.rank == pair.low ? pair.high : pair.low
        let buffers = (0..<burst).map { _ in MessageBuffer<Float>(count: floats, repeating: 1) }
        var bursts: [Double] = []
        for round in 0..<6 {
            let start = monotonicSeconds()
            if world.rank == pair.low {
                let sends = try buffers.map { try world.isend($0, to: peer, tag: 8) }
                for send in sends { _ = try send.wait() }
                _ = try world.receive(Float.self, capacity: 1, from: peer, tag: 9)
            } else {
                let receives = try buffers.map { try world.irecv(into: $0, from: peer, tag: 8) }
                for receive in receives { _ = try receive.wait() }
                try world.send([Float(0)], to: peer, tag: 9)
            }
            if round >= 1 { bursts.append(monotonicSeconds() - start) }
        }
        return max(0, median(bursts) - 2 * alone) / Double(burst)
    }
}
