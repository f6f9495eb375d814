/// A checkpoint shard on disk: named records of numbers, then a checksum of everything before it.
///
///     "DPSH" | format UInt32 | records UInt32 | record* | checksum UInt64 of all the bytes before
///     record = name length UInt32 | name UTF-8 | kind UInt8 (0 Float, 1 Int64, 2 bytes, 3 Double) | count UInt64 | payload
///
/// Little-endian. Written to a temporary file, fsynced and renamed, so a shard is either whole
/// or absent; the checksum catches a shard damaged later. Formats 1 and 2 differ only in the
/// checksum (`ShardChecksum`); this program writes 2 and reads both.
public struct ShardFile {
    public static let magic: [UInt8] = Array("DPSH".utf8)
    public static let format: UInt32 = 2
    public static let formatsRead: ClosedRange<UInt32> = 1...2

    public enum Value: Equatable {
        case floats([Float])
        case integers([Int64])
        case bytes([UInt8])
        case doubles([Double])

        /// The bytes of the record's payload.
        var payloadBytes: Int {
            switch self {
            case .floats(let v): 4 * v.count
            case .integers(let v): 8 * v.count
            case .bytes(let v): v.count
            case .doubles(let v): 8 * v.count
            }
        }
    }

    public var records: [(name: String, value: Value)] = []

    public init() {}

    public mutating func add(_ name: String, _ floats: [Float]) { records.append((name, .floats(floats))) }
    public mutating func add(_ name: String, integers: [Int]) { records.append((name, .integers(integers.map(Int64.init)))) }
    public mutating func add(_ name: String, bytes: [UInt8]) { records.append((name, .bytes(bytes))) }
    public mutating func add(_ name: String, doubles: [Double]) { records.append((name, .doubles(doubles))) }

    /// The bytes of the whole shard, as `write(to:)` puts them in its file.
    public func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedSize) { buffer, count in
            var out = ByteWriter(UnsafeMutableRawBufferPointer(buffer))
            encode(into: &out)
            precondition(out.offset == encodedSize, "a shard's fields fell short of the size worked out for them")
            count = encodedSize
        }
    }

    var encodedSize: Int { 12 + records.reduce(0) { $0 + 4 + $1.name.utf8.count + 1 + 8 + $1.value.payloadBytes } + 8 }

    /// Puts the shard into `sink` field by field; returns its checksum, which ends it.
    @discardableResult
    func encode<Sink: ShardSink>(into sink: inout Sink) -> UInt64 {
        var out = SummingSink(base: sink)
        out.put(Self.magic)
        out.put(le: Self.format)
        out.put(le: UInt32(records.count))
        for (name, value) in records {
            out.put(le: UInt32(name.utf8.count))
            out.put(Array(name.utf8))
            switch value {
            case .floats(let v): out.put(le: UInt8(0)); out.put(le: UInt64(v.count)); out.put(elements: v, bits: \.bitPattern)
            case .integers(let v): out.put(le: UInt8(1)); out.put(le: UInt64(v.count)); out.put(elements: v, bits: { $0 })
            case .bytes(let v): out.put(le: UInt8(2)); out.put(le: UInt64(v.count)); out.put(v)
            case .doubles(let v): out.put(le: UInt8(3)); out.put(le: UInt64(v.count)); out.put(elements: v, bits: \.bitPattern)
            }
        }
        let checksum = out.sum.value
        sink = out.base
        sink.put(le: checksum)
        return checksum
    }

    /// Parses a shard, checking its magic, format, record structure and checksum; errors name `path`.
    public init(decoding bytes: [UInt8], path: String) throws(PipelineError) {
        func fail(_ why: String) -> PipelineError { PipelineError("checkpoint shard \(path): \(why)") }
        guard bytes.count >= 20, Array(bytes[0..<4]) == Self.magic else { throw fail("not a dualpipe checkpoint shard (bad header; \(bytes.count) bytes)") }
        let body = bytes[0..<(bytes.count - 8)]
        var reader = ByteReader(bytes: bytes, offset: 4, end: body.count)
        guard let format = reader.u32(), let count = reader.u32() else { throw fail("truncated header") }
        guard Self.formatsRead.contains(format) else {
            throw fail("format \(format), this program reads formats \(Self.formatsRead.lowerBound) to \(Self.formatsRead.upperBound)")
        }
        for _ in 0..<count {
            guard let length = reader.u32(), let name = reader.bytes(Int(length)).map({ String(decoding: $0, as: UTF8.self) }),
                  let kind = reader.bytes(1)?.first, let n = reader.u64().flatMap({ Int(exactly: $0) }) else {
                throw fail("truncated after \(records.count) of \(count) records (\(bytes.count) bytes): the file was cut short")
            }
            let value: Value
            switch kind {
            case 0: guard let v = reader.elements(n, from: Float.init(bitPattern:)) else { throw fail("truncated in record '\(name)'") }; value = .floats(v)
            case 1: guard let v = reader.elements(n, from: { (bits: Int64) in bits }) else { throw fail("truncated in record '\(name)'") }; value = .integers(v)
            case 2: guard let v = reader.bytes(n) else { throw fail("truncated in record '\(name)'") }; value = .bytes(v)
            case 3: guard let v = reader.elements(n, from: Double.init(bitPattern:)) else { throw fail("truncated in record '\(name)'") }; value = .doubles(v)
            default: throw fail("record '\(name)' has unknown kind \(kind)")
            }
            records.append((name, value))
        }
        guard reader.offset == body.count else { throw fail("\(body.count - reader.offset) stray bytes after the records: the file is damaged") }
        var tail = ByteReader(bytes: bytes, offset: bytes.count - 8)
        guard let stored = tail.u64(), stored == ShardChecksum.of(body, format: format) else {
            throw fail("checksum mismatch: the file is damaged (or was changed after it was written)")
        }
    }

    public func floats(_ name: String, path: String) throws(PipelineError) -> [Float] {
        guard case .floats(let v)? = records.first(where: { $0.name == name })?.value else { throw PipelineError("checkpoint shard \(path): no record '\(name)'") }
        return v
    }

    public func integers(_ name: String, path: String) throws(PipelineError) -> [Int] {
        guard case .integers(let v)? = records.first(where: { $0.name == name })?.value else { throw PipelineError("checkpoint shard \(path): no record '\(name)'") }
        return v.map { Int($0) }
    }

    public func doubles(_ name: String, path: String) throws(PipelineError) -> [Double] {
        guard case .doubles(let v)? = records.first(where: { $0.name == name })?.value else { throw PipelineError("checkpoint shard \(path): no record '\(name)'") }
        return v
    }

    public func has(_ name: String) -> Bool { records.contains { $0.name == name } }

    /// The checksum of a shard file its manifest lists, for `bytes` that `encoded()` made or
    /// `init(decoding:)` accepted. Format 2's is the one the shard ends with; format 1's is the
    /// bytes' FNV-1a over the whole file, the body's carried on over the 8 that store it. (Words
    /// cannot carry on that way: the stored sum xored with itself is 0, whatever the file.)
    public static func fileChecksum(_ bytes: [UInt8]) -> UInt64 {
        var header = ByteReader(bytes: bytes, offset: 4)
        var tail = ByteReader(bytes: bytes, offset: bytes.count - 8)
        let stored = tail.u64()!
        guard header.u32() == 1 else { return stored }
        return bytes.withUnsafeBytes { ShardChecksum.fnv1aBytes(UnsafeRawBufferPointer(rebasing: $0[(bytes.count - 8)...]), continuing: stored) }
    }
}
