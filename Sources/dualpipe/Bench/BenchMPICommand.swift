import ArgumentParser
import MPI

/// `dualpipe bench mpi`: the interconnect numbers that pipeline and expert-parallel traffic are judged
/// against. Ping-pong between ranks 0 and 1 gives latency and bandwidth per message size; alltoallv
/// over the first p ranks gives the cost of an MoE dispatch at each group size.
struct BenchMPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi",
        abstract: "Point-to-point latency/bandwidth (8 B to 64 MiB) and alltoallv time for 2..N ranks.",
        discussion: "Run under mpirun with at least 2 ranks, e.g. `mpirun -np 8 dualpipe bench mpi`. Rank 0 prints the tables."
    )

    @Option(help: "Largest ping-pong message in bytes (sizes go up by 4x from 8 B).")
    var maxBytes: Int = 64 << 20

    @Option(help: "Bytes each rank sends to each peer in the alltoallv benchmark.")
    var alltoallBytes: Int = 256 << 10

    @Option(help: "Timed samples per measurement; the median is reported.")
    var samples: Int = 5

    @OptionGroup var memoryCheck: MemoryCheckOption

    /// MPI counts are 32-bit ints: one message, and one rank's whole alltoallv buffer, hold at most this many bytes.
    static let countLimit = Int(Int32.max)

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard maxBytes >= 8 else { throw ValidationError("--max-bytes \(maxBytes): the largest message must be >= 8 bytes") }
        guard maxBytes <= Self.countLimit else {
            throw ValidationError("--max-bytes \(maxBytes) exceeds MPI's count limit of \(Self.countLimit) bytes per message")
        }
        guard alltoallBytes >= 0 else { throw ValidationError("--alltoall-bytes \(alltoallBytes): it must be >= 0") }
        guard alltoallBytes <= Self.countLimit else {
            throw ValidationError("--alltoall-bytes \(alltoallBytes) exceeds MPI's count limit of \(Self.countLimit) bytes")
        }
        guard samples >= 1 else { throw ValidationError("--samples \(samples): it must be >= 1") }
    }

    func run() throws {
        try ComputeSetup.configure()
        try MPIJob.run(check: { environment in
            let world = environment.world
            guard world.size >= 2 else {
                throw ValidationError("bench mpi needs at least 2 ranks, got \(world.size): run it under mpirun -np 2 or more")
            }
            // The alltoallv buffer of one rank: alltoallBytes to each of up to world.size ranks.
            guard alltoallBytes <= Self.countLimit / world.size else {
                throw ValidationError("--alltoall-bytes \(alltoallBytes) x \(world.size) ranks exceeds MPI's count limit of \(Self.countLimit) bytes per alltoallv buffer")
            }
            // Every rank holds the ping-pong message, then the alltoallv send and receive buffers.
            let perRank = Double(max(maxBytes, 2 * alltoallBytes * world.size))
            try MPIJob.requireMemory(need: perRank, process: try MPIJob.processResident(world), world: world, what: "--max-bytes \(maxBytes), --alltoall-bytes \(alltoallBytes) on \(world.size) ranks",
                                     skip: memoryCheck.skip)
        }) { environment in
            try pingPong(environment.world)
            try alltoallv(environment.world)
        }
    }

    /// Round trips between ranks 0 and 1; one-way latency is half a round trip.
    private func pingPong(_ world: Communicator) throws {
        // Where ranks 0 and 1 sit and what carries their messages decide what the table measures.
        let nodes = try world.allgather([try world.splitByNode().nodeIndex])
        let transports = MessageTransports.description
        if world.rank == 0 {
            let placement = nodes[0] == nodes[1] ? "on one node" : "on nodes \(nodes[0]) and \(nodes[1])"
            print("ping-pong, rank 0 <-> rank 1 \(placement) (median of \(samples) samples); \(transports)")
            print("bytes".leftPadded(10) + "  " + "round trips".leftPadded(11) + "  " + "latency us".leftPadded(12) + "  " + "bandwidth GB/s".leftPadded(14))
        }
        var bytes = 8
        while bytes <= maxBytes {
            // Enough round trips to move ~64 MiB per sample, but at least 4 and at most 1000.
            let trips = min(1000, max(4, (64 << 20) / bytes))
            let message = MessageBuffer<UInt8>(count: bytes, repeating: 1)
            var times: [Double] = []
            for _ in 0..<samples {
                try world.barrier()
                let start = Environment.wallTime()
                for _ in 0..<trips where world.rank < 2 {
                    let peer = 1 - world.rank
                    if world.rank == 0 {
                        try world.isend(message, to: peer, tag: 1).wait()
                        try world.irecv(into: message, from: peer, tag: 2).wait()
                    } else {
                        try world.irecv(into: message, from: peer, tag: 1).wait()
                        try world.isend(message, to: peer, tag: 2).wait()
                    }
                }
                times.append((Environment.wallTime() - start) / Double(trips) / 2)
            }
            if world.rank == 0 {
                let oneWay = median(times)
                print("\(bytes)".leftPadded(10) + "  " + "\(trips)".leftPadded(11) + "  "
                      + decimal(oneWay * 1e6, 2).leftPadded(12) + "  " + decimal(Double(bytes) / oneWay / 1e9, 3).leftPadded(14))
            }
            bytes = bytes >= maxBytes ? maxBytes + 1 : min(bytes * 4, maxBytes)
        }
    }

    /// alltoallv among the first p ranks, for p = 2..size, every rank sending `alltoallBytes` to each peer.
    private func alltoallv(_ world: Communicator) throws {
        if world.rank == 0 {
            print("\nalltoallv, \(alltoallBytes) bytes per peer (median of \(samples) samples)")
            print("ranks".leftPadded(5) + "  " + "time ms".leftPadded(10) + "  " + "per-rank GB/s".leftPadded(13))
        }
        for ranks in 2...world.size {
            guard let group = try world.split(color: world.rank < ranks ? 0 : nil, key: world.rank) else {
                try world.barrier()
                continue
            }
            let counts = [Int](repeating: alltoallBytes, count: ranks)
            let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: world.rank), count: alltoallBytes * ranks)
            var times: [Double] = []
            for _ in 0..<samples {
                try group.barrier()
                let start = Environment.wallTime()
                _ = try group.alltoallv(payload, sendCounts: counts, receiveCounts: counts)
                times.append(try group.allreduce(Environment.wallTime() - start, op: .max))
            }
            if world.rank == 0 {
                let time = median(times)
                let moved = Double(alltoallBytes * (ranks - 1))
                print("\(ranks)".leftPadded(5) + "  " + decimal(time * 1e3, 3).leftPadded(10) + "  " + decimal(moved / time / 1e9, 3).leftPadded(13))
            }
            try world.barrier()
        }
    }
}
