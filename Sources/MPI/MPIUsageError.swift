/// A call that this module refuses before it reaches MPI, because its arguments break a rule
/// (counts that do not add up, a negative count). The message names the value and the rule.
public struct MPIUsageError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
