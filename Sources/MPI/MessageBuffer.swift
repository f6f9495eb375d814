/// Memory that MPI may read or write while a nonblocking call is in flight. It is a class so that
/// a `Request` can hold it: the memory lives at least as long as the request that uses it, and
/// never moves (unlike an Array, whose storage may be copied or freed behind a pointer).
public final class MessageBuffer<Element: MPIScalar> {
    /// The elements, valid until the buffer is released. Read it only once the request is complete.
    public let pointer: UnsafeMutableBufferPointer<Element>

    /// A zero-filled buffer of `count` elements.
    public init(count: Int, repeating value: Element) {
        precondition(count >= 0, "buffer count must be >= 0, got \(count)")
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: value)
    }

    /// A buffer of `count` elements left as the allocator gave them, for one that is written in
    /// full before anything reads or sends it (rows packed into every place, or an MPI receive
    /// whose counts cover it): zero-filling it first was a pass over memory for nothing.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "buffer count must be >= 0, got \(count)")
        pointer = .allocate(capacity: count)
    }

    /// A buffer holding a copy of `values`.
    public init(copying values: some Collection<Element>) {
        pointer = .allocate(capacity: values.count)
        _ = pointer.initialize(from: values)
    }

    public var count: Int { pointer.count }

    /// A copy of the elements as an array.
    public var array: [Element] { Array(pointer) }

    /// The element count a call moves: `requested` if it fits, the whole buffer if nil.
    func checkedCount(_ requested: Int?, _ call: String) throws(MPIUsageError) -> Int {
        guard let requested else { return count }
        guard requested >= 0 && requested <= count else {
            throw MPIUsageError("\(call): \(requested) elements do not fit a buffer of \(count)")
        }
        return requested
    }

    /// The elements a call moves: `range` if it lies inside the buffer.
    func checkedRange(_ range: Range<Int>, _ call: String) throws(MPIUsageError) -> Range<Int> {
        guard range.lowerBound >= 0 && range.upperBound <= count else {
            throw MPIUsageError("\(call): elements \(range.lowerBound)..<\(range.upperBound) do not lie in a buffer of \(count)")
        }
        return range
    }

    deinit { pointer.deallocate() }
}
