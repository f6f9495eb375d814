import MPI

/// Allreduce of each element type with each operation, against closed forms. Rank r contributes
/// [r + 1, 2r, 7]: the sum over n ranks is [n(n+1)/2, n(n-1), 7n], max [n, 2(n-1), 7], min [1, 0, 7].
let allreduceCheck = Check(name: "allreduce sum/max/min for Float, Double, Int32, Int64, Int, UInt8; in place on a message buffer") { world in
    func run<T: MPIScalar & Equatable>(_ type: T.Type, _ make: (Int) -> T) throws {
        let n = world.size
        let mine = [make(world.rank + 1), make(2 * world.rank), make(7)]
        let expected: [ReductionOp: [Int]] = [
            .sum: [n * (n + 1) / 2, n * (n - 1), 7 * n], .max: [n, 2 * (n - 1), 7], .min: [1, 0, 7],
        ]
        for op in [ReductionOp.sum, .max, .min] {
            // UInt8 sums would overflow past 255 on large jobs; max and min are what it is used for.
            if T.self == UInt8.self, op == .sum, 7 * n > 255 { continue }
            var values = mine
            try world.allreduce(&values, op: op)
            try expectEqual(values, expected[op]!.map(make), "allreduce \(op) of \(T.self)")
        }
        try expect(try world.allreduce(make(world.rank), op: .max) == make(n - 1), "scalar allreduce max of \(T.self)")
    }
    try run(Float.self) { Float($0) }
    try run(Double.self) { Double($0) }
    try run(Int32.self) { Int32($0) }
    try run(Int64.self) { Int64($0) }
    try run(Int.self) { $0 }
    try run(UInt8.self) { UInt8($0) }
    // A buffer of a few MB, as the gradient sums pass: element k of rank r holds r + k.
    let n = world.size, count = 1 << 20
    let buffer = MessageBuffer<Float>(count: count, repeating: 0)
    for k in 0..<count { buffer.pointer[k] = Float(world.rank + k % 1000) }
    try world.allreduce(buffer, op: .sum)
    let wrong = (0..<count).first { buffer.pointer[$0] != Float(n * (n - 1) / 2 + n * ($0 % 1000)) }
    try expect(wrong == nil, "allreduce sum in place on a \(count)-float buffer: element \(wrong ?? 0) is \(buffer.pointer[wrong ?? 0])")
}

let broadcastCheck = Check(name: "broadcast from the last rank") { world in
    let root = world.size - 1
    var values = world.rank == root ? (0..<257).map { Double($0) * 0.25 } : [Double](repeating: -1, count: 257)
    try world.broadcast(&values, root: root)
    try expectEqual(values, (0..<257).map { Double($0) * 0.25 }, "broadcast payload")
}

/// Rank r contributes r + 1 copies of r: allgatherv returns each rank's own block.
let allgatherCheck = Check(name: "allgather and allgatherv") { world in
    try expectEqual(try world.allgather([Int32(world.rank), Int32(-world.rank)]),
                    (0..<world.size).flatMap { [Int32($0), Int32(-$0)] }, "allgather")
    let blocks = try world.allgatherv([Int](repeating: world.rank, count: world.rank + 1))
    try expect(blocks.count == world.size, "allgatherv returned \(blocks.count) blocks for \(world.size) ranks")
    for (peer, block) in blocks.enumerated() {
        try expectEqual(block, [Int](repeating: peer, count: peer + 1), "allgatherv block of rank \(peer)")
    }
}

/// How many elements rank `from` sends rank `to` in the uneven checks: 0, 1 or 2 (some pairs send nothing).
func unevenCount(from: Int, to: Int) -> Int { (from + 2 * to) % 3 }

/// The element `index` of the block that rank `from` sends rank `to`; each one is distinct.
func unevenValue(from: Int, to: Int, index: Int) -> Float { Float(from * 10_000 + to * 100 + index) }

/// What rank `rank` must receive in the uneven exchange, packed by source rank.
func unevenExpected(rank: Int, size: Int) -> [Float] {
    (0..<size).flatMap { source in (0..<unevenCount(from: source, to: rank)).map { unevenValue(from: source, to: rank, index: $0) } }
}

let alltoallCheck = Check(name: "alltoall, and alltoallv with uneven and zero counts") { world in
    let size = world.size
    let equal = try world.alltoall((0..<size).flatMap { peer in [Int64(world.rank * 100 + peer), -1] })
    try expectEqual(equal, (0..<size).flatMap { peer in [Int64(peer * 100 + world.rank), -1] }, "alltoall")

    let sendCounts = (0..<size).map { unevenCount(from: world.rank, to: $0) }
    let payload = (0..<size).flatMap { peer in (0..<sendCounts[peer]).map { unevenValue(from: world.rank, to: peer, index: $0) } }
    let receiveCounts = (0..<size).map { unevenCount(from: $0, to: world.rank) }
    let received = try world.alltoallv(payload, sendCounts: sendCounts, receiveCounts: receiveCounts)
    try expectEqual(received, unevenExpected(rank: world.rank, size: size), "alltoallv with known counts")

    let (exchanged, counts) = try world.alltoallv(payload, sendCounts: sendCounts)
    try expectEqual(counts, receiveCounts, "alltoallv exchanged receive counts")
    try expectEqual(exchanged, unevenExpected(rank: world.rank, size: size), "alltoallv with exchanged counts")

    // A rank that sends and receives nothing at all still takes part.
    let silent = try world.alltoallv([Float](), sendCounts: [Int](repeating: 0, count: size),
                                     receiveCounts: [Int](repeating: 0, count: size))
    try expect(silent.isEmpty, "all-zero alltoallv received \(silent.count) elements")

    do {
        _ = try world.alltoallv([Float(1)], sendCounts: [Int](repeating: 0, count: size), receiveCounts: [Int](repeating: 0, count: size))
        throw CheckFailure(description: "alltoallv accepted 1 element whose counts add up to 0")
    } catch let error as MPIUsageError {
        try expect(error.description.contains("1 elements") && error.description.contains("add up to 0"),
                   "usage error does not name the values: \(error)")
    }
}

let communicatorCheck = Check(name: "duplicate, split(color:key:) and split by node") { world in
    let copy = try world.duplicate()
    try expect(copy.rank == world.rank && copy.size == world.size, "duplicate has rank \(copy.rank) size \(copy.size)")

    // Split by parity with keys that reverse the order inside each half.
    let half = try world.split(color: world.rank % 2, key: -world.rank)!
    let members = (0..<world.size).filter { $0 % 2 == world.rank % 2 }
    try expect(half.size == members.count, "parity half has size \(half.size), expected \(members.count)")
    try expect(half.rank == members.reversed().firstIndex(of: world.rank)!, "parity half rank \(half.rank) is not reversed")
    let gathered = try half.allgather([world.rank])
    try expectEqual(gathered, members.reversed(), "parity half members in key order")

    let none = try world.split(color: world.rank == 0 ? 0 : nil, key: 0)
    try expect((none != nil) == (world.rank == 0), "split with a nil colour returned a communicator on rank \(world.rank)")
}
