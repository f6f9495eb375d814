import CMPI

/// Nonblocking collectives. The returned request owns the data buffers and the count arrays,
/// which MPI reads until completion.
extension Communicator {
    /// Starts an alltoallv (MPI_Ialltoallv) from `send` into `receive`; see `alltoallv` for the layout.
    /// Read `receive` only after the request completes.
    public func ialltoallv<T: MPIScalar>(
        send: MessageBuffer<T>, sendCounts: [Int], receive: MessageBuffer<T>, receiveCounts: [Int]
    ) throws -> Request {
        let sendLayout = try VectorLayout(counts: sendCounts, ranks: size, role: "ialltoallv send")
        let receiveLayout = try VectorLayout(counts: receiveCounts, ranks: size, role: "ialltoallv receive")
        try sendLayout.requireLength(send.count, role: "ialltoallv send")
        try receiveLayout.requireLength(receive.count, role: "ialltoallv receive")
        let arrays = [sendLayout.counts, sendLayout.displacements, receiveLayout.counts, receiveLayout.displacements]
            .map { MessageBuffer<Int32>(copying: $0) }
        var request: MPI_Request?
        try check(MPI_Ialltoallv(send.pointer.baseAddress, arrays[0].pointer.baseAddress, arrays[1].pointer.baseAddress,
                                 T.mpiDatatype.handle,
                                 receive.pointer.baseAddress, arrays[2].pointer.baseAddress, arrays[3].pointer.baseAddress,
                                 T.mpiDatatype.handle, handle, &request),
                  "MPI_Ialltoallv")
        return Request(handle: request, keepAlive: [send, receive] + arrays, receiveDatatype: nil, label: "MPI_Ialltoallv")
    }

    /// Starts an in-place element-wise reduction of `buffer` over all ranks (MPI_Iallreduce).
    public func iallreduce<T: MPIScalar>(_ buffer: MessageBuffer<T>, op: ReductionOp) throws -> Request {
        var request: MPI_Request?
        try check(MPI_Iallreduce(cmpi_in_place(), buffer.pointer.baseAddress, Int32(buffer.count),
                                 T.mpiDatatype.handle, op.handle, handle, &request),
                  "MPI_Iallreduce(\(op))")
        return Request(handle: request, keepAlive: [buffer], receiveDatatype: nil, label: "MPI_Iallreduce(\(op))")
    }
}
