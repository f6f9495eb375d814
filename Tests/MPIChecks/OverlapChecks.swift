import MPI
import Tensor

/// An ialltoallv started before a run of sgemms arrives while the rank computes: the pattern of the
/// DualPipe loop (communication in flight under BLAS compute). Between kernels the rank calls
/// MPI_Test, which is what moves Open MPI's nonblocking collectives along; the check requires the
/// exchange to have completed during the compute loop, before any blocking wait, with the right data.
/// The sgemm result is checked too, so neither side can be skipped.
let overlapCheck = Check(name: "ialltoallv progresses and completes while the rank runs sgemm") { world in
    let size = world.size
    let block = 64 * 1024 // floats per peer: large enough to need the rendezvous protocol
    let sendCounts = (0..<size).map { block + unevenCount(from: world.rank, to: $0) }
    let receiveCounts = (0..<size).map { block + unevenCount(from: $0, to: world.rank) }
    let value = { (from: Int, to: Int, index: Int) in Float((from * 31 + to * 7 + index) % 65_536) }
    let send = MessageBuffer(copying: (0..<size).flatMap { peer in (0..<sendCounts[peer]).map { value(world.rank, peer, $0) } })
    let receive = MessageBuffer<Float>(count: receiveCounts.reduce(0, +), repeating: -1)
    let exchange = try world.ialltoallv(send: send, sendCounts: sendCounts, receive: receive, receiveCounts: receiveCounts)

    // C = A · B with A[i, k] = 1 and B[k, j] = j: every row of C is [0, n, 2n, ...].
    let n = 192
    let a = [Float](repeating: 1, count: n * n)
    let b = (0..<n * n).map { Float($0 % n) }
    var c = [Float](repeating: 0, count: n * n)
    var polls = 0, completedWhileComputing = false
    let deadline = Environment.wallTime() + 20 // ranks that share cores take turns: generous
    while Environment.wallTime() < deadline {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(m: n, n: n, k: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        polls += 1
        if try exchange.test() != nil { completedWhileComputing = true; break }
    }
    try expect(completedWhileComputing, "ialltoallv still in flight after \(polls) kernels with MPI_Test between them")
    try expect(exchange.isComplete, "ialltoallv not marked complete")
    try expectEqual(Array(c[0..<n]), (0..<n).map { Float($0 * n) }, "sgemm row 0 after \(polls) kernels")
    let expected = (0..<size).flatMap { peer in (0..<receiveCounts[peer]).map { value(peer, world.rank, $0) } }
    try expectEqual(receive.array, expected, "ialltoallv payload")
}

/// An iallreduce in flight while the rank computes, then checked against the closed form.
let iallreduceCheck = Check(name: "iallreduce sums in place") { world in
    let buffer = MessageBuffer<Double>(copying: (0..<1024).map { Double(world.rank + $0) })
    let request = try world.iallreduce(buffer, op: .sum)
    var spin = 0.0
    for index in 0..<10_000 { spin += Double(index).squareRoot() }
    try request.wait()
    let n = Double(world.size)
    try expectEqual(buffer.array, (0..<1024).map { n * Double($0) + n * (n - 1) / 2 }, "iallreduce sum (spin \(spin > 0))")
}
