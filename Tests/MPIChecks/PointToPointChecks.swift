import MPI

/// Rank r sends to r+1 and receives from r-1 around a ring, with a tag per sender.
let ringCheck = Check(name: "isend/irecv ring with tags, completed by testAll") { world in
    let right = (world.rank + 1) % world.size
    let left = (world.rank + world.size - 1) % world.size
    let payload = (0..<1000).map { Float(world.rank * 10_000 + $0) }
    let inbox = MessageBuffer<Float>(count: payload.count, repeating: -1)
    let receive = try world.irecv(into: inbox, from: left, tag: 100 + left)
    let send = try world.isend(payload, to: right, tag: 100 + world.rank)
    // Poll with testAll (which also drives MPI's progress) until both are done.
    var polled: [Status]?
    while polled == nil { polled = try Requests.testAll([receive, send]) }
    let statuses = polled!
    try expect(statuses[0].source == left, "receive source \(statuses[0].source), expected \(left)")
    try expect(statuses[0].tag == 100 + left, "receive tag \(statuses[0].tag), expected \(100 + left)")
    try expect(statuses[0].count == payload.count, "received \(String(describing: statuses[0].count)) elements")
    try expectEqual(inbox.array, (0..<1000).map { Float(left * 10_000 + $0) }, "ring payload from \(left)")
    try expect(receive.isComplete && send.isComplete, "requests not marked complete after testAll")
    try expect(try receive.test() != nil, "test of a completed request did not report it complete")
}

/// Three messages sent with tags 1, 2, 3 are received by irecvs posted in the order 3, 1, 2;
/// tag matching, not arrival order, decides which buffer gets which message.
let tagMatchingCheck = Check(name: "out-of-order receives matched by tag") { world in
    let right = (world.rank + 1) % world.size
    let left = (world.rank + world.size - 1) % world.size
    let sends = try (1...3).map { tag in
        try world.isend((0..<(tag * 10)).map { Int64(world.rank * 1000 + tag * 100 + $0) }, to: right, tag: tag)
    }
    let order = [3, 1, 2]
    let inboxes = order.map { MessageBuffer<Int64>(count: $0 * 10, repeating: -1) }
    let receives = try zip(order, inboxes).map { tag, inbox in try world.irecv(into: inbox, from: left, tag: tag) }
    var seen = Set<Int>()
    while let (index, status) = try Requests.waitAny(receives) {
        let tag = order[index]
        try expect(status.tag == tag, "receive posted for tag \(tag) matched tag \(status.tag)")
        try expectEqual(inboxes[index].array, (0..<(tag * 10)).map { Int64(left * 1000 + tag * 100 + $0) },
                        "payload of tag \(tag)")
        seen.insert(tag)
    }
    try expect(seen == [1, 2, 3], "waitAny completed tags \(seen.sorted()), expected [1, 2, 3]")
    try Requests.waitAll(sends)
}

/// A blocking send and receive between neighbours, with wildcard source and tag.
let blockingCheck = Check(name: "blocking send/recv with wildcards") { world in
    guard world.size > 1 else { return }
    if world.rank % 2 == 0, world.rank + 1 < world.size {
        try world.send([Double(world.rank), 0.5], to: world.rank + 1, tag: 7)
    } else if world.rank % 2 == 1 {
        let (values, status) = try world.receive(Double.self, capacity: 8, from: Communicator.anySource,
                                                 tag: Communicator.anyTag)
        try expect(status.source == world.rank - 1 && status.tag == 7, "matched \(status), expected source \(world.rank - 1) tag 7")
        try expectEqual(values, [Double(world.rank - 1), 0.5], "blocking payload")
    }
}

/// A send to a rank that does not exist comes back as an MPIError with MPI's message, not a crash.
let invalidRankCheck = Check(name: "send to an invalid rank throws a readable MPI error") { world in
    do {
        let request = try world.isend([Float(1)], to: world.size, tag: 0)
        try request.wait()
        throw CheckFailure(description: "isend to rank \(world.size) of \(world.size) did not fail")
    } catch let error as MPIError {
        try expect(error.call.hasPrefix("MPI_Isend"), "error names call \(error.call), expected MPI_Isend")
        try expect(error.message.contains("MPI_ERR_RANK"), "error message is '\(error.message)', expected MPI_ERR_RANK")
        try expect(error.file == "MPI/PointToPoint.swift" && error.line > 0,
                   "error does not carry its call site: \(error.description)")
    }
}

/// A pooled buffer carries a shorter message than its capacity: the send says how many elements
/// travel, the status says how many arrived, the rest of the receive buffer is untouched; and once
/// both requests complete they release their buffers (nothing is kept alive behind the caller).
let partialBufferCheck = Check(name: "short messages in long buffers; completion releases the buffers") { world in
    let right = (world.rank + 1) % world.size
    let left = (world.rank + world.size - 1) % world.size
    weak var sentBuffer: MessageBuffer<Float>?
    weak var receivedBuffer: MessageBuffer<Float>?
    var statuses: [Status] = []
    var received: [Float] = []
    var requests: [Request] = [] // outlive the buffers' scope: only completion may let the buffers go
    do {
        let outbox = MessageBuffer<Float>(copying: (0..<64).map { Float(world.rank * 100 + $0) })
        let inbox = MessageBuffer<Float>(count: 64, repeating: -1)
        sentBuffer = outbox
        receivedBuffer = inbox
        let receive = try world.irecv(into: inbox, count: 40, from: left, tag: 5)
        let send = try world.isend(outbox, count: 10 + world.rank % 3, to: right, tag: 5)
        requests = [receive, send]
        statuses = try Requests.waitAll(requests)
        received = inbox.array
    }
    let expected = 10 + left % 3
    try expect(statuses[0].count == expected, "received \(String(describing: statuses[0].count)) elements, expected \(expected)")
    try expectEqual(Array(received[0..<expected]), (0..<expected).map { Float(left * 100 + $0) }, "short payload")
    try expect(received[expected...].allSatisfy { $0 == -1 }, "elements past the message were written")
    try expect(requests.allSatisfy(\.isComplete) && sentBuffer == nil && receivedBuffer == nil,
               "completed requests still hold their buffers")
    do {
        _ = try world.isend(MessageBuffer<Float>(count: 4, repeating: 0), count: 5, to: right, tag: 6)
        throw CheckFailure(description: "a count above the buffer's was accepted")
    } catch let error as MPIUsageError {
        try expect(error.description.contains("5 elements do not fit a buffer of 4"), "usage error says '\(error)'")
    }
}
