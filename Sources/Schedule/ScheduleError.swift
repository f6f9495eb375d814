/// Why a configuration or a schedule was rejected. Every case names the rule and the values.
public enum ScheduleError: Error, Equatable, CustomStringConvertible {
    case unknownKind(String)
    case tooFewRanks(kind: ScheduleKind, ranks: Int)
    case oddRanks(kind: ScheduleKind, ranks: Int)
    case oddMicroBatches(kind: ScheduleKind, microBatches: Int)
    case tooFewMicroBatches(kind: ScheduleKind, microBatches: Int, minimum: Int, rule: String)
    /// The interleaved kinds run their micro-batches in max(1, M / N) rounds of equal groups (PyTorch's rule).
    case microBatchesNotInGroups(kind: ScheduleKind, microBatches: Int, ranks: Int)
    /// A number of stages a rank V that the kind does not take.
    case invalidStagesPerRank(kind: ScheduleKind, stagesPerRank: Int, rule: String)
    case malformed(String)
    /// Beyond the documented size limits (`ScheduleConfiguration.maximumRanks`, `maximumChunks`).
    case tooLarge(kind: ScheduleKind, String)
    /// Costs the simulator refuses (`Costs.validate`): the cost, its value and the rule.
    case invalidCosts(String)

    public var description: String {
        switch self {
        case .unknownKind(let name):
            let known = ScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown schedule kind '\(name)': the kind must be one of \(known)"
        case .tooFewRanks(let kind, let n):
            return "\(kind.title) needs at least 1 rank (N >= 1), got N = \(n)"
        case .oddRanks(let kind, let n):
            return "\(kind.title) needs an even number of ranks (N even), got N = \(n)"
        case .oddMicroBatches(let kind, let m):
            return "\(kind.title) needs an even number of micro-batches (M even, half enter at each end), got M = \(m)"
        case .tooFewMicroBatches(let kind, let m, let minimum, let rule):
            return "\(kind.title) needs \(rule), got M = \(m) (minimum \(minimum))"
        case .microBatchesNotInGroups(let kind, let m, let n):
            let rounds = max(1, m / max(n, 1))
            let fits = { ScheduleConfiguration.splitsIntoRounds(microBatches: $0, ranks: n) }
            let below = stride(from: m - 1, to: 0, by: -1).first(where: fits) ?? 1
            let above = ((m + 1)...).first(where: fits) ?? m + 1
            return "\(kind.title) needs M in max(1, M / N) rounds of equal groups (M a multiple of the rounds), got M = \(m) with N = \(n): \(rounds) rounds do not divide it; e.g. M = \(below) or \(above)"
        case .invalidStagesPerRank(let kind, let v, let rule):
            return "\(kind.title) needs \(rule), got V = \(v)"
        case .malformed(let why):
            return "malformed schedule: \(why)"
        case .tooLarge(let kind, let why):
            return "\(kind.title) is too large: \(why) (docs/inputs.md)"
        case .invalidCosts(let why):
            return why
        }
    }
}
