import MPI

/// The message space of ranks that live in one process (unit tests): sends and receives match
/// like MPI's (same source, destination and tag, in posting order), and a send completes only
/// once its receive has taken it, as under MPI's strict (synchronous) semantics, so a schedule
/// that would deadlock on MPI deadlocks here too.
public final class InProcessNetwork {
    /// A posted send or receive.
    public final class Operation {
        let source: Int, destination: Int, tag: Int
        let buffer: MessageBuffer<Float>
        let count: Int
        var done = false
        init(source: Int, destination: Int, tag: Int, buffer: MessageBuffer<Float>, count: Int) {
            (self.source, self.destination, self.tag, self.buffer, self.count) = (source, destination, tag, buffer, count)
        }
    }

    private var sends: [Operation] = []
    private var receives: [Operation] = []
    /// Floats delivered so far.
    public private(set) var deliveredFloats = 0

    public init() {}

    /// One endpoint per rank.
    public func transport(rank: Int) -> InProcessTransport { InProcessTransport(network: self, rank: rank) }

    func post(send: Operation) { sends.append(send); match() }
    func post(receive: Operation) { receives.append(receive); match() }

    /// Pairs the oldest unmatched receive of each (source, destination, tag) with the oldest send.
    private func match() {
        for receive in receives where !receive.done {
            guard let send = sends.first(where: {
                !$0.done && $0.source == receive.source && $0.destination == receive.destination && $0.tag == receive.tag
            }) else { continue }
            precondition(send.count <= receive.count, "in-process message of \(send.count) floats into a receive of \(receive.count)")
            receive.buffer.pointer.baseAddress!.update(from: send.buffer.pointer.baseAddress!, count: send.count)
            deliveredFloats += send.count
            send.done = true
            receive.done = true
        }
        sends.removeAll(where: \.done)
        receives.removeAll(where: \.done)
    }

    /// Messages posted and not yet matched, for deadlock reports.
    public var pending: String {
        let s = sends.map { "send \($0.source)->\($0.destination) tag \($0.tag)" }
        let r = receives.map { "receive \($0.source)->\($0.destination) tag \($0.tag)" }
        return (s + r).joined(separator: ", ")
    }
}

/// One rank's endpoint of an `InProcessNetwork`. It cannot block (every rank runs on one
/// thread): `wait` on a request still in flight is an error; run interpreters with
/// `advance(blocking: false)` in turn instead.
public final class InProcessTransport: Transport {
    let network: InProcessNetwork
    public let rank: Int

    init(network: InProcessNetwork, rank: Int) {
        self.network = network
        self.rank = rank
    }

    public func postReceive(into buffer: MessageBuffer<Float>, count: Int, from source: Int, tag: Int) throws -> InProcessNetwork.Operation {
        let operation = InProcessNetwork.Operation(source: source, destination: rank, tag: tag, buffer: buffer, count: count)
        network.post(receive: operation)
        return operation
    }

    public func postSend(_ buffer: MessageBuffer<Float>, count: Int, to destination: Int, tag: Int) throws -> InProcessNetwork.Operation {
        let operation = InProcessNetwork.Operation(source: rank, destination: destination, tag: tag, buffer: buffer, count: count)
        network.post(send: operation)
        return operation
    }

    public func test(_ request: InProcessNetwork.Operation) throws -> Bool { request.done }

    public func wait(_ request: InProcessNetwork.Operation, timeout: Double?) throws -> Bool {
        guard request.done else {
            throw PipelineError("in-process wait on \(request.source)->\(request.destination) tag \(request.tag) would block: run interpreters with advance(blocking: false)")
        }
        return true
    }
}

extension InProcessNetwork {
    /// Runs the interpreters of all ranks on this thread, each as far as it can go in turn,
    /// until every program has finished. A round in which no rank can move is a deadlock: it
    /// throws with each rank's position and the unmatched messages.
    public func run<T>(_ interpreters: [Interpreter<T>]) throws {
        for interpreter in interpreters { interpreter.restart() }
        while !interpreters.allSatisfy(\.isFinished) {
            var moved = false
            for interpreter in interpreters {
                while try interpreter.advance(blocking: false) { moved = true }
            }
            if !moved {
                let stuck = interpreters.filter { !$0.isFinished }.map { "rank \($0.pipelineRank) at \($0.position)" }
                throw PipelineError("deadlock: no rank can proceed (\(stuck.joined(separator: "; "))); unmatched: \(pending)")
            }
        }
    }
}
