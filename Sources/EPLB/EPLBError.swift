/// Why a placement request was refused: the offending value and the rule it breaks, in words a user can act on.
public struct EPLBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
