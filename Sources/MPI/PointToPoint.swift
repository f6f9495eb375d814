import CMPI

extension Communicator {
    /// Blocking send of `values` to rank `destination` (MPI_Send).
    public func send<T: MPIScalar>(_ values: [T], to destination: Int, tag: Int) throws {
        try values.withUnsafeBufferPointer { values in
            try check(MPI_Send(values.baseAddress, Int32(values.count), T.mpiDatatype.handle,
                               Int32(destination), Int32(tag), handle),
                      "MPI_Send(to: \(destination), tag: \(tag))")
        }
    }

    /// Blocking receive of up to `capacity` elements (MPI_Recv). `source` and `tag` may be the
    /// `anySource` / `anyTag` wildcards; the status says what matched and how many arrived.
    public func receive<T: MPIScalar>(
        _ type: T.Type = T.self, capacity: Int, from source: Int, tag: Int
    ) throws -> (values: [T], status: Status) {
        let buffer = MessageBuffer<T>(count: capacity, repeating: .zero)
        var raw = MPI_Status()
        try check(MPI_Recv(buffer.pointer.baseAddress, Int32(capacity), T.mpiDatatype.handle,
                           Int32(source), Int32(tag), handle, &raw),
                  "MPI_Recv(from: \(source), tag: \(tag))")
        let status = try Status(raw, datatype: T.mpiDatatype)
        return (Array(buffer.pointer.prefix(status.count ?? 0)), status)
    }

    /// Sends `values` to `destination` while receiving exactly `receiveCount` elements from
    /// `source` (MPI_Sendrecv), straight into the array returned: a pair's exchange of large
    /// arrays with no copy on either side, and without the deadlock two blocking sends could meet.
    /// A message of another length is an error.
    public func sendReceive<T: MPIScalar>(_ values: [T], to destination: Int, sendTag: Int,
                                         receiveCount: Int, from source: Int, receiveTag: Int) throws -> [T] {
        let label = "MPI_Sendrecv(to: \(destination), tag: \(sendTag), count: \(values.count); from: \(source), tag: \(receiveTag), count: \(receiveCount))"
        var failure: Error?
        let received = [T](unsafeUninitializedCapacity: receiveCount) { buffer, count in
            do {
                var raw = MPI_Status()
                try values.withUnsafeBufferPointer { out in
                    try check(MPI_Sendrecv(out.baseAddress, Int32(out.count), T.mpiDatatype.handle, Int32(destination), Int32(sendTag),
                                           buffer.baseAddress, Int32(receiveCount), T.mpiDatatype.handle, Int32(source), Int32(receiveTag),
                                           handle, &raw), label)
                }
                let arrived = try Status(raw, datatype: T.mpiDatatype).count ?? 0
                guard arrived == receiveCount else {
                    throw MPIError(code: -1, message: "\(arrived) of \(receiveCount) elements arrived", call: label, file: #fileID, line: #line)
                }
                count = receiveCount
            } catch {
                (failure, count) = (error, 0)
            }
        }
        if let failure { throw failure }
        return received
    }

    /// Nonblocking send of the first `count` elements of `buffer` (all of them by default) (MPI_Isend).
    /// The request keeps the buffer alive until it completes; do not write to the buffer before then.
    public func isend<T: MPIScalar>(_ buffer: MessageBuffer<T>, count: Int? = nil, to destination: Int, tag: Int) throws -> Request {
        try isend(buffer, range: 0..<buffer.checkedCount(count, "isend"), to: destination, tag: tag)
    }

    /// Nonblocking send of the elements `range` of `buffer` (MPI_Isend), a part of a larger buffer
    /// sent in place; the request keeps the whole buffer alive.
    public func isend<T: MPIScalar>(_ buffer: MessageBuffer<T>, range: Range<Int>, to destination: Int, tag: Int) throws -> Request {
        var request: MPI_Request?
        let range = try buffer.checkedRange(range, "isend")
        let label = "MPI_Isend(to: \(destination), tag: \(tag), count: \(range.count))"
        try check(MPI_Isend(buffer.pointer.baseAddress.map { $0 + range.lowerBound }, Int32(range.count), T.mpiDatatype.handle,
                            Int32(destination), Int32(tag), handle, &request), label)
        return Request(handle: request, keepAlive: [buffer], receiveDatatype: nil, label: label)
    }

    /// Nonblocking send of a copy of `values`.
    public func isend<T: MPIScalar>(_ values: [T], to destination: Int, tag: Int) throws -> Request {
        try isend(MessageBuffer(copying: values), to: destination, tag: tag)
    }

    /// Nonblocking receive of at most `count` elements (the whole buffer by default) into the start of
    /// `buffer` (MPI_Irecv). Read the buffer only after the request completes; its status tells how
    /// many elements arrived. A longer message is an MPI_ERR_TRUNCATE error.
    public func irecv<T: MPIScalar>(into buffer: MessageBuffer<T>, count: Int? = nil, from source: Int, tag: Int) throws -> Request {
        try irecv(into: buffer, range: 0..<buffer.checkedCount(count, "irecv"), from: source, tag: tag)
    }

    /// Nonblocking receive of at most `range.count` elements into the elements `range` of `buffer`
    /// (MPI_Irecv), a part of a larger buffer filled in place.
    public func irecv<T: MPIScalar>(into buffer: MessageBuffer<T>, range: Range<Int>, from source: Int, tag: Int) throws -> Request {
        var request: MPI_Request?
        let range = try buffer.checkedRange(range, "irecv")
        let label = "MPI_Irecv(from: \(source), tag: \(tag), count: \(range.count))"
        try check(MPI_Irecv(buffer.pointer.baseAddress.map { $0 + range.lowerBound }, Int32(range.count), T.mpiDatatype.handle,
                            Int32(source), Int32(tag), handle, &request), label)
        return Request(handle: request, keepAlive: [buffer], receiveDatatype: T.mpiDatatype, label: label)
    }
}
