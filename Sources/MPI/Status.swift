import CMPI

/// What a completed receive learned: who sent it, with which tag, and how many elements arrived.
public struct Status: Sendable, Equatable {
    public let source: Int
    public let tag: Int
    /// Elements received, in units of the receive's element type; nil for sends and collectives.
    public let count: Int?

    init(_ status: MPI_Status, datatype: Datatype?) throws {
        source = Int(status.MPI_SOURCE)
        tag = Int(status.MPI_TAG)
        if let datatype {
            var elements: Int32 = 0
            var copy = status
            try check(MPI_Get_count(&copy, datatype.handle, &elements), "MPI_Get_count")
            count = Int(elements)
        } else {
            count = nil
        }
    }
}
