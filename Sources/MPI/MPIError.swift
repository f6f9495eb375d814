import CMPI

/// A failed MPI call: MPI's own error string plus the call and the Swift call site that made it.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The return code of the call (an MPI error code, not only an error class).
    public let code: Int32
    /// MPI_Error_string of `code`, e.g. "MPI_ERR_RANK: invalid rank".
    public let message: String
    /// The MPI function that failed, e.g. "MPI_Isend".
    public let call: String
    public let file: String
    public let line: Int

    public var description: String {
        "\(call) failed at \(file):\(line): \(message) (MPI error code \(code))"
    }
}

/// The one choke point for MPI return codes: every call in this module goes through here, so every
/// failure becomes an `MPIError` carrying MPI's message and the call site. Communicators are set to
/// MPI_ERRORS_RETURN (see `Environment`), so codes come back here instead of aborting inside MPI.
@inline(__always)
func check(_ code: Int32, _ call: String, file: String = #fileID, line: Int = #line) throws(MPIError) {
    if code == cmpi_success() { return }
    throw MPIError(code: code, message: errorString(code), call: call, file: file, line: line)
}

/// MPI_Error_string for a code; falls back to the number when MPI cannot name it.
func errorString(_ code: Int32) -> String {
    var length: Int32 = 0
    var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    guard MPI_Error_string(code, &text, &length) == cmpi_success() else { return "unknown MPI error \(code)" }
    return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
