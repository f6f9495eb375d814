import CMPI

/// One nonblocking operation in flight. It owns (keeps alive) every buffer MPI may touch until the
/// operation completes: the data and, for the v-collectives, the count and displacement arrays.
public final class Request {
    var handle: MPI_Request?
    /// Buffers that must outlive the operation. Released once it completes.
    private var keepAlive: [AnyObject]
    /// The receive's element type, to count what arrived; nil for sends and collectives.
    private let receiveDatatype: Datatype?
    /// What this request is, for diagnostics: "MPI_Isend to 3 tag 7".
    public let label: String

    init(handle: MPI_Request?, keepAlive: [AnyObject], receiveDatatype: Datatype?, label: String) {
        self.handle = handle
        self.keepAlive = keepAlive
        self.receiveDatatype = receiveDatatype
        self.label = label
    }

    /// True once a wait or test has seen the operation finish.
    public var isComplete: Bool { handle == cmpi_request_null() }

    /// Blocks until the operation completes (MPI_Wait).
    @discardableResult
    public func wait() throws -> Status {
        var status = MPI_Status()
        try check(MPI_Wait(&handle, &status), "MPI_Wait(\(label))")
        return try completed(status)
    }

    /// Completes the operation if it is done (MPI_Test); nil while it is still in flight.
    /// Calling it also lets MPI progress outstanding operations.
    public func test() throws -> Status? {
        var done: Int32 = 0
        var status = MPI_Status()
        try check(MPI_Test(&handle, &done, &status), "MPI_Test(\(label))")
        return done != 0 ? try completed(status) : nil
    }

    func completed(_ status: MPI_Status) throws -> Status {
        keepAlive.removeAll()
        return try Status(status, datatype: receiveDatatype)
    }

    deinit {
        // Dropped while MPI may still read or write its buffers (e.g. while an error unwinds the
        // stack): leak them rather than free memory under MPI, and say so, since outside an
        // ending job it is a bug in the caller.
        if !isComplete, !keepAlive.isEmpty {
            _ = Unmanaged.passRetained(keepAlive as AnyObject)
            printError("warning: \(label) dropped while in flight; its buffers are leaked rather than freed under MPI")
        }
    }
}

/// Completion of many requests at once.
public enum Requests {
    /// Waits for all of `requests` (MPI_Waitall) and returns their statuses in order.
    @discardableResult
    public static func waitAll(_ requests: [Request]) throws -> [Status] {
        var handles = requests.map(\.handle)
        var statuses = [MPI_Status](repeating: MPI_Status(), count: requests.count)
        let code = MPI_Waitall(Int32(requests.count), &handles, &statuses)
        for (request, handle) in zip(requests, handles) { request.handle = handle }
        try check(code, "MPI_Waitall(\(requests.count) requests)")
        return try zip(requests, statuses).map { try $0.completed($1) }
    }

    /// Completes all of `requests` if all are done (MPI_Testall); nil while any is in flight.
    public static func testAll(_ requests: [Request]) throws -> [Status]? {
        var handles = requests.map(\.handle)
        var statuses = [MPI_Status](repeating: MPI_Status(), count: requests.count)
        var done: Int32 = 0
        let code = MPI_Testall(Int32(requests.count), &handles, &done, &statuses)
        for (request, handle) in zip(requests, handles) { request.handle = handle }
        try check(code, "MPI_Testall(\(requests.count) requests)")
        guard done != 0 else { return nil }
        return try zip(requests, statuses).map { try $0.completed($1) }
    }

    /// Waits until one of `requests` completes (MPI_Waitany) and returns its index and status;
    /// nil when every request is already complete.
    public static func waitAny(_ requests: [Request]) throws -> (index: Int, status: Status)? {
        var handles = requests.map(\.handle)
        var index: Int32 = 0
        var status = MPI_Status()
        let code = MPI_Waitany(Int32(requests.count), &handles, &index, &status)
        for (request, handle) in zip(requests, handles) { request.handle = handle }
        try check(code, "MPI_Waitany(\(requests.count) requests)")
        guard index != cmpi_undefined() else { return nil }
        return (Int(index), try requests[Int(index)].completed(status))
    }
}
