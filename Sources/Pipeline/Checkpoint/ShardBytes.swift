/// Where a shard's bytes go as they are encoded: memory (`ByteWriter`) or its file
/// (`ShardFileStream`, which keeps a write's failure to say when it is finished).
protocol ShardSink {
    mutating func put(raw bytes: UnsafeRawBufferPointer)
}

extension ShardSink {
    mutating func put<T: FixedWidthInteger>(le value: T) {
        withUnsafeBytes(of: value.littleEndian) { put(raw: $0) }
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { put(raw: $0) }
    }

    /// Each element's `bits`, little-endian: on a little-endian CPU, the array's memory as it is
    /// (element by element, the arrays took most of a save).
    mutating func put<T: BitwiseCopyable, Bits: FixedWidthInteger>(elements: [T], bits: (T) -> Bits) {
        precondition(MemoryLayout<T>.size == MemoryLayout<Bits>.size)
        #if _endian(little)
        elements.withUnsafeBytes { put(raw: $0) }
        #else
        for x in elements { put(le: bits(x)) }
        #endif
    }
}

/// A sink that passes its bytes on to `base` and sums them as format 2 does.
struct SummingSink<Base: ShardSink>: ShardSink {
    var base: Base
    var sum = ShardChecksum.Words()

    mutating func put(raw bytes: UnsafeRawBufferPointer) {
        sum.add(bytes)
        base.put(raw: bytes)
    }
}

/// Memory sized beforehand.
struct ByteWriter: ShardSink {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func put(raw bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= buffer.count - offset, "a shard's fields outgrew the size worked out for them")
        if let base = bytes.baseAddress { (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count) }
        offset += bytes.count
    }
}

/// Where a decoded shard's bytes come from: memory (`MemoryShard`), or its file
/// (`FileShard`), read a piece at a time so that a restore never holds the whole file.
protocol ShardSource {
    var count: Int { get }
    /// Fills `buffer` with the bytes from `offset` on; false where they cannot be read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool
    /// Why the last read failed, where the source can say.
    var readFailure: String? { get }
    /// Hands `range` to `body` in pieces; false where a piece cannot be read.
    func forEachPiece(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool
}

extension ShardSource {
    func forEachPiece(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let piece = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(piece, range.count), alignment: 8)
        defer { buffer.deallocate() }
        for start in stride(from: range.lowerBound, to: range.upperBound, by: piece) {
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(piece, range.upperBound - start)])
            guard read(into: part, at: start) else { return false }
            body(UnsafeRawBufferPointer(part))
        }
        return true
    }
}

struct MemoryShard: ShardSource {
    let bytes: [UInt8]
    var count: Int { bytes.count }
    var readFailure: String? { nil }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)])) }
        return true
    }

    func forEachPiece(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        return true
    }
}

/// Reads little-endian fields from `source[offset..<end]`, checking every length against the
/// bytes left (without overflow) before it reads.
struct ByteReader {
    let source: any ShardSource
    var offset: Int
    /// Where the records end (the checksum after them is not one).
    let end: Int

    init(_ source: any ShardSource, offset: Int, end: Int? = nil) {
        self.source = source
        self.offset = offset
        self.end = end ?? source.count
    }

    init(bytes: [UInt8], offset: Int, end: Int? = nil) { self.init(MemoryShard(bytes: bytes), offset: offset, end: end) }

    /// Whether `n` more elements of `size` bytes are left (false for a length no file could hold).
    private func fits(_ n: Int, size: Int) -> Bool { n >= 0 && n <= (end - offset) / size }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard fits(n, size: 1) else { return nil }
        var ok = true
        let read = [UInt8](unsafeUninitializedCapacity: n) { buffer, count in
            ok = source.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            count = ok ? n : 0
        }
        guard ok else { return nil }
        offset += n
        return read
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard fits(1, size: MemoryLayout<T>.size) else { return nil }
        var value = T.zero
        guard withUnsafeMutableBytes(of: &value, { source.read(into: $0, at: offset) }) else { return nil }
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    /// Passes over `n` elements of `size` bytes; where they start, nil where they run past the end.
    mutating func skip(_ n: Int, size: Int) -> Int? {
        guard fits(n, size: size) else { return nil }
        defer { offset += size * n }
        return offset
    }

    mutating func u32() -> UInt32? { integer(UInt32.self) }
    mutating func u64() -> UInt64? { integer(UInt64.self) }

    /// `n` elements, each made by `element` from its little-endian bits: on a little-endian CPU,
    /// the bytes read straight into the array.
    mutating func elements<T: BitwiseCopyable, Bits: FixedWidthInteger>(_ n: Int, from element: (Bits) -> T) -> [T]? {
        let size = MemoryLayout<Bits>.size
        precondition(MemoryLayout<T>.size == size)
        guard fits(n, size: size) else { return nil }
        #if _endian(little)
        var ok = true
        let read = [T](unsafeUninitializedCapacity: n) { buffer, count in
            ok = source.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            count = ok ? n : 0
        }
        guard ok else { return nil }
        offset += size * n
        return read
        #else
        guard let raw = bytes(size * n) else { return nil }
        return raw.withUnsafeBytes { raw in (0..<n).map { element(Bits(littleEndian: raw.loadUnaligned(fromByteOffset: size * $0, as: Bits.self))) } }
        #endif
    }
}
