import MPI

extension Communicator {
    /// Gathers one line of text from every rank and prints them on rank 0 in rank order, so that
    /// mpirun's interleaving of the ranks' standard output does not scramble a report.
    func printInRankOrder(_ line: String) throws {
        let lines = try allgatherv(Array(line.utf8))
        guard rank == 0 else { return }
        for bytes in lines { print(String(decoding: bytes, as: UTF8.self)) }
    }
}
