import MPI
#if canImport(Glibc)
import Glibc
#endif

/// What the interpreter talks through: nonblocking point-to-point messages of floats between
/// pipeline ranks. `MPITransport` is what runs; `InProcessTransport` lets unit tests run several
/// ranks' interpreters in one process.
public protocol Transport: AnyObject {
    associatedtype Request
    /// Starts receiving at most `count` floats from pipeline rank `source` with `tag` into the
    /// start of `buffer`. The buffer is the transport's until the request completes.
    func postReceive(into buffer: MessageBuffer<Float>, count: Int, from source: Int, tag: Int) throws -> Request
    /// Starts sending the first `count` floats of `buffer` to pipeline rank `destination`.
    func postSend(_ buffer: MessageBuffer<Float>, count: Int, to destination: Int, tag: Int) throws -> Request
    /// Completes the request if it is done; false while it is in flight.
    func test(_ request: Request) throws -> Bool
    /// Blocks until the request completes, or until `timeout` seconds have passed (nil: no
    /// limit); returns whether it completed.
    func wait(_ request: Request, timeout: Double?) throws -> Bool
}

/// MPI point-to-point on the pipeline communicator.
public final class MPITransport: Transport {
    public let communicator: Communicator

    public init(_ communicator: Communicator) { self.communicator = communicator }

    public func postReceive(into buffer: MessageBuffer<Float>, count: Int, from source: Int, tag: Int) throws -> MPI.Request {
        try communicator.irecv(into: buffer, count: count, from: source, tag: tag)
    }

    public func postSend(_ buffer: MessageBuffer<Float>, count: Int, to destination: Int, tag: Int) throws -> MPI.Request {
        try communicator.isend(buffer, count: count, to: destination, tag: tag)
    }

    public func test(_ request: MPI.Request) throws -> Bool { try request.test() != nil }

    /// With a timeout, polls (MPI_Test, yielding the core between polls, which also keeps
    /// oversubscribed ranks moving) until the deadline.
    public func wait(_ request: MPI.Request, timeout: Double?) throws -> Bool {
        guard let timeout else { try request.wait(); return true }
        return try pollUntilDone(timeout: timeout) { try request.test() != nil }
    }
}

/// Calls `done` until it returns true or `timeout` seconds pass; returns whether it finished.
func pollUntilDone(timeout: Double, _ done: () throws -> Bool) throws -> Bool {
    let deadline = monotonicSeconds() + timeout
    while true {
        if try done() { return true }
        if monotonicSeconds() > deadline { return false }
        sched_yield()
    }
}
