import CMPI

/// Blocking collectives. Every rank of the communicator must make the same call.
extension Communicator {
    /// Copies `values` from `root` to every rank (MPI_Bcast). Every rank passes an array of the same length.
    public func broadcast<T: MPIScalar>(_ values: inout [T], root: Int) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { values in
            try check(MPI_Bcast(values.baseAddress, count, T.mpiDatatype.handle, Int32(root), handle),
                      "MPI_Bcast(root: \(root))")
        }
    }

    /// Reduces `values` element-wise over all ranks, in place (MPI_Allreduce with MPI_IN_PLACE).
    public func allreduce<T: MPIScalar>(_ values: inout [T], op: ReductionOp) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { values in
            try check(MPI_Allreduce(cmpi_in_place(), values.baseAddress, count, T.mpiDatatype.handle, op.handle, handle),
                      "MPI_Allreduce(\(op))")
        }
    }

    /// Reduces `buffer` element-wise over all ranks, in place (MPI_Allreduce with MPI_IN_PLACE).
    public func allreduce<T: MPIScalar>(_ buffer: MessageBuffer<T>, op: ReductionOp) throws {
        try check(MPI_Allreduce(cmpi_in_place(), buffer.pointer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle,
                                op.handle, handle),
                  "MPI_Allreduce(\(op))")
    }

    /// Reduces one value over all ranks.
    public func allreduce<T: MPIScalar>(_ value: T, op: ReductionOp) throws -> T {
        var values = [value]
        try allreduce(&values, op: op)
        return values[0]
    }

    /// Every rank's `values`, concatenated in rank order (MPI_Allgather). All ranks pass the same length.
    public func allgather<T: MPIScalar>(_ values: [T]) throws -> [T] {
        var gathered = [T](repeating: .zero, count: values.count * size)
        try values.withUnsafeBufferPointer { values in
            try gathered.withUnsafeMutableBufferPointer { gathered in
                try check(MPI_Allgather(values.baseAddress, Int32(values.count), T.mpiDatatype.handle,
                                        gathered.baseAddress, Int32(values.count), T.mpiDatatype.handle, handle),
                          "MPI_Allgather")
            }
        }
        return gathered
    }

    /// Every rank's `values`, of any length, one array per rank (MPI_Allgatherv).
    public func allgatherv<T: MPIScalar>(_ values: [T]) throws -> [[T]] {
        let layout = try VectorLayout(counts: try allgather([values.count]), ranks: size, role: "allgatherv receive")
        var gathered = [T](repeating: .zero, count: layout.total)
        try values.withUnsafeBufferPointer { values in
            try gathered.withUnsafeMutableBufferPointer { gathered in
                try check(MPI_Allgatherv(values.baseAddress, Int32(values.count), T.mpiDatatype.handle,
                                         gathered.baseAddress, layout.counts, layout.displacements,
                                         T.mpiDatatype.handle, handle),
                          "MPI_Allgatherv")
            }
        }
        return (0..<size).map { peer in
            let start = Int(layout.displacements[peer])
            return Array(gathered[start..<start + Int(layout.counts[peer])])
        }
    }

    /// Sends block r of `values` to rank r and returns the blocks received, in rank order
    /// (MPI_Alltoall). `values.count` must be a multiple of the communicator size.
    public func alltoall<T: MPIScalar>(_ values: [T]) throws -> [T] {
        guard values.count % size == 0 else {
            throw MPIUsageError("alltoall: \(values.count) elements do not split into \(size) equal blocks")
        }
        let block = Int32(values.count / size)
        var received = [T](repeating: .zero, count: values.count)
        try values.withUnsafeBufferPointer { values in
            try received.withUnsafeMutableBufferPointer { received in
                try check(MPI_Alltoall(values.baseAddress, block, T.mpiDatatype.handle,
                                       received.baseAddress, block, T.mpiDatatype.handle, handle),
                          "MPI_Alltoall")
            }
        }
        return received
    }

    /// Sends `sendCounts[r]` consecutive elements of `values` to rank r and receives
    /// `receiveCounts[r]` from rank r, packed in rank order (MPI_Alltoallv). Counts may be uneven or zero.
    public func alltoallv<T: MPIScalar>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) throws -> [T] {
        let send = try VectorLayout(counts: sendCounts, ranks: size, role: "alltoallv send")
        let receive = try VectorLayout(counts: receiveCounts, ranks: size, role: "alltoallv receive")
        try send.requireLength(values.count, role: "alltoallv send")
        var received = [T](repeating: .zero, count: receive.total)
        try values.withUnsafeBufferPointer { values in
            try received.withUnsafeMutableBufferPointer { received in
                try check(MPI_Alltoallv(values.baseAddress, send.counts, send.displacements, T.mpiDatatype.handle,
                                        received.baseAddress, receive.counts, receive.displacements,
                                        T.mpiDatatype.handle, handle),
                          "MPI_Alltoallv")
            }
        }
        return received
    }

    /// alltoallv where the receive counts are not known yet: exchanges the counts first.
    public func alltoallv<T: MPIScalar>(_ values: [T], sendCounts: [Int]) throws -> (values: [T], receiveCounts: [Int]) {
        let receiveCounts = try alltoall(sendCounts)
        return (try alltoallv(values, sendCounts: sendCounts, receiveCounts: receiveCounts), receiveCounts)
    }
}
