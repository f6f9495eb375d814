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

/// Reads little-endian records from `bytes[offset..<end]` in place: a shard is read without a
/// copy of its bytes, and each array straight from them.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    /// Where the records end (the checksum after them is not one).
    let end: Int

    init(bytes: [UInt8], offset: Int, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    /// Whether `n` more elements of `size` bytes are left (false for a length no file could hold).
    private func fits(_ n: Int, size: Int) -> Bool { n >= 0 && n <= (end - offset) / size }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard fits(n, size: 1) else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard fits(1, size: MemoryLayout<T>.size) else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return bytes.withUnsafeBytes { [offset] in T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    mutating func u32() -> UInt32? { integer(UInt32.self) }
    mutating func u64() -> UInt64? { integer(UInt64.self) }

    /// `n` elements, each made by `element` from its little-endian bits: on a little-endian CPU,
    /// the file's bytes copied as they are.
    mutating func elements<T: BitwiseCopyable, Bits: FixedWidthInteger>(_ n: Int, from element: (Bits) -> T) -> [T]? {
        let size = MemoryLayout<Bits>.size
        precondition(MemoryLayout<T>.size == size)
        guard fits(n, size: size) else { return nil }
        defer { offset += size * n }
        return bytes.withUnsafeBytes { [offset] raw in
            #if _endian(little)
            [T](unsafeUninitializedCapacity: n) { buffer, count in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size * n)]))
                count = n
            }
            #else
            (0..<n).map { element(Bits(littleEndian: raw.loadUnaligned(fromByteOffset: offset + size * $0, as: Bits.self))) }
            #endif
        }
    }
}
