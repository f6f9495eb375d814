/// What a message costs on each link between two ranks: a pipeline spread over nodes has fast
/// links inside a node and slow ones between nodes, and a simulation given one latency for all
/// of them misprices whichever kind it was not measured on.
///
/// Each directed link `from -> to` has a latency (a message lands that long after it starts to
/// cross) and a transfer (how long it holds the link, so the messages sent on it take turns), as
/// `Costs.latency` and `Costs.transfer` are for every link alike.
public struct Links: Hashable, Sendable {
    /// Ranks the links join (the schedule's ranks).
    public let ranks: Int
    /// [from * ranks + to], in the costs' time unit; the diagonal is unused (a rank's own stages
    /// hand over without a message).
    private var latencies: [Double]
    private var transfers: [Double]

    /// Every link alike.
    public init(ranks: Int, latency: Double, transfer: Double = 0) {
        self.ranks = ranks
        latencies = [Double](repeating: latency, count: ranks * ranks)
        transfers = [Double](repeating: transfer, count: ranks * ranks)
    }

    /// Each link as `cost(from, to)` gives it.
    public init(ranks: Int, cost: (_ from: Int, _ to: Int) -> (latency: Double, transfer: Double)) {
        self.init(ranks: ranks, latency: 0)
        for from in 0..<ranks {
            for to in 0..<ranks where to != from {
                (latencies[from * ranks + to], transfers[from * ranks + to]) = cost(from, to)
            }
        }
    }

    public func latency(from: Int, to: Int) -> Double { latencies[from * ranks + to] }
    public func transfer(from: Int, to: Int) -> Double { transfers[from * ranks + to] }

    /// The rules a simulation needs: links for exactly the schedule's ranks, and every cost a
    /// finite number >= 0. The error names the link, its value and the rule.
    public func validate(for schedule: Schedule) throws(ScheduleError) {
        guard ranks == schedule.ranks else {
            throw .invalidCosts("links for \(ranks) ranks: the schedule has \(schedule.ranks)")
        }
        for from in 0..<ranks {
            for to in 0..<ranks where to != from {
                for (name, value) in [("latency", latency(from: from, to: to)), ("transfer", transfer(from: from, to: to))]
                where !(value.isFinite && value >= 0) {
                    throw .invalidCosts("\(name) of link \(from) -> \(to) = \(value): every cost must be a finite number >= 0")
                }
            }
        }
    }
}
