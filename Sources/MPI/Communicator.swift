import CMPI

/// A group of ranks that talk to each other. Communicators that this package creates (duplicate,
/// split) are freed when the last reference goes away; predefined ones never are.
public final class Communicator {
    let handle: MPI_Comm?
    private let owned: Bool
    /// This process's rank in the communicator, 0..<size.
    public let rank: Int
    /// The number of ranks.
    public let size: Int

    /// Wildcards for receives.
    public static var anySource: Int { Int(cmpi_any_source()) }
    public static var anyTag: Int { Int(cmpi_any_tag()) }

    init(predefined handle: MPI_Comm?) throws {
        (self.handle, owned) = (handle, false)
        (rank, size) = try Communicator.rankAndSize(handle)
    }

    private init(owning handle: MPI_Comm?) throws {
        (self.handle, owned) = (handle, true)
        (rank, size) = try Communicator.rankAndSize(handle)
    }

    private static func rankAndSize(_ handle: MPI_Comm?) throws -> (Int, Int) {
        var rank: Int32 = 0
        var size: Int32 = 0
        try check(MPI_Comm_rank(handle, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &size), "MPI_Comm_size")
        return (Int(rank), Int(size))
    }

    deinit {
        guard owned else { return }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 {
            var handle = self.handle
            MPI_Comm_free(&handle)
        }
    }

    /// A new communicator with the same ranks and a separate message space (MPI_Comm_dup).
    public func duplicate() throws -> Communicator {
        var copy: MPI_Comm?
        try check(MPI_Comm_dup(handle, &copy), "MPI_Comm_dup")
        return try Communicator(owning: copy)
    }

    /// Splits into one communicator per colour, ranks ordered by `key` then by rank (MPI_Comm_split).
    /// A nil colour takes no part and gets nil back. Every rank must call it.
    public func split(color: Int?, key: Int) throws -> Communicator? {
        var part: MPI_Comm?
        let colour = color.map { Int32($0) } ?? cmpi_undefined()
        try check(MPI_Comm_split(handle, colour, Int32(key), &part), "MPI_Comm_split(color: \(colour))")
        return part == cmpi_comm_null() ? nil : try Communicator(owning: part)
    }

    /// The ranks that share this rank's node (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED),
    /// ordered by rank in this communicator.
    public func splitSharedMemory() throws -> Communicator {
        var part: MPI_Comm?
        try check(MPI_Comm_split_type(handle, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &part),
                  "MPI_Comm_split_type(shared)")
        return try Communicator(owning: part)
    }

    /// Blocks until every rank has called it.
    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }
}
