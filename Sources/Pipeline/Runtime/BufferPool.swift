import MPI

/// Message buffers reused step after step: every activation and gradient between stages has the
/// same size, `[tokens, hidden]`, so one free list serves all. A run allocates as many buffers as
/// it ever has in flight at once and no more, so memory stays flat over steps.
public final class BufferPool {
    /// Floats per buffer.
    public let capacity: Int
    private var free: [MessageBuffer<Float>] = []
    /// Buffers created so far (the most ever in use at once).
    public private(set) var allocated = 0

    public init(capacity: Int) { self.capacity = capacity }

    public func acquire() -> MessageBuffer<Float> {
        if let buffer = free.popLast() { return buffer }
        allocated += 1
        return MessageBuffer(count: capacity, repeating: 0)
    }

    /// Gives a buffer back once no request uses it.
    public func release(_ buffer: MessageBuffer<Float>) {
        precondition(buffer.count == capacity, "buffer of \(buffer.count) floats returned to a pool of \(capacity)")
        free.append(buffer)
    }

    public var inUse: Int { allocated - free.count }
}
