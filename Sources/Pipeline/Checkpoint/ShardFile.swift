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
        /// Floats given in pieces, written one after another as one record of floats (a shard
        /// being written takes a stage's parameters where they lie); read back as `floats`.
        case floatPieces([[Float]])

        /// The bytes of the record's payload.
        var payloadBytes: Int {
            switch self {
            case .floats(let v): 4 * v.count
            case .floatPieces(let pieces): 4 * pieces.reduce(0) { $0 + $1.count }
            case .integers(let v): 8 * v.count
            case .bytes(let v): v.count
            case .doubles(let v): 8 * v.count
            }
        }
    }

    public var records: [(name: String, value: Value)] = []

    public init() {}

    public mutating func add(_ name: String, _ floats: [Float]) { records.append((name, .floats(floats))) }
    public mutating func add(_ name: String, pieces: [[Float]]) { records.append((name, .floatPieces(pieces))) }
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
            case .floatPieces(let pieces):
                out.put(le: UInt8(0)); out.put(le: UInt64(pieces.reduce(0) { $0 + $1.count }))
                for piece in pieces { out.put(elements: piece, bits: \.bitPattern) }
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

    /// Parses a shard in memory, checking its magic, format, record structure and checksum;
    /// errors name `path`.
    public init(decoding bytes: [UInt8], path: String) throws(PipelineError) {
        try self.init(source: MemoryShard(bytes: bytes), path: path)
    }

    /// Opens the shard file at `path` and checks it as `init(decoding:)` does, reading it a piece
    /// at a time; its records are read from the file when asked for, one at a time, so that a
    /// restore holds the record it is loading and not the file beside it.
    public init(reading path: String) throws(PipelineError) {
        try self.init(source: try FileShard(path: path), path: path)
    }

    private init(source: any ShardSource, path: String) throws(PipelineError) {
        func fail(_ why: String) -> PipelineError { PipelineError(source.readFailure ?? "checkpoint shard \(path): \(why)") }
        let size = source.count
        var header = ByteReader(source, offset: 0)
        guard size >= 20, header.bytes(4) == Self.magic else { throw fail("not a dualpipe checkpoint shard (bad header; \(size) bytes)") }
        var reader = ByteReader(source, offset: 4, end: size - 8)
        guard let format = reader.u32(), let count = reader.u32() else { throw fail("truncated header") }
        guard Self.formatsRead.contains(format) else {
            throw fail("format \(format), this program reads formats \(Self.formatsRead.lowerBound) to \(Self.formatsRead.upperBound)")
        }
        for _ in 0..<count {
            guard let length = reader.u32(), let name = reader.bytes(Int(length)).map({ String(decoding: $0, as: UTF8.self) }),
                  let kind = reader.bytes(1)?.first, let n = reader.u64().flatMap({ Int(exactly: $0) }) else {
                throw fail("truncated after \(names.count) of \(count) records (\(size) bytes): the file was cut short")
            }
            guard let elementSize = Self.elementSize[kind] else { throw fail("record '\(name)' has unknown kind \(kind)") }
            guard let offset = reader.skip(n, size: elementSize) else { throw fail("truncated in record '\(name)'") }
            if index[name] == nil { index[name] = Entry(kind: kind, offset: offset, count: n) }
            names.append(name)
        }
        guard reader.offset == size - 8 else { throw fail("\(size - 8 - reader.offset) stray bytes after the records: the file is damaged") }
        var tail = ByteReader(source, offset: size - 8)
        var sum = ShardChecksum.Summing(format: format)
        guard source.forEachPiece(0..<(size - 8), { sum.add($0) }), let stored = tail.u64() else { throw fail("unreadable") }
        guard stored == sum.value else { throw fail("checksum mismatch: the file is damaged (or was changed after it was written)") }
        (self.source, self.checksum) = (source, format == 1 ? ShardChecksum.carriedOver(stored) : stored)
    }

    /// The checksum its manifest lists, for a decoded shard: format 2's is the one the shard ends
    /// with; format 1's is the bytes' FNV-1a over the whole file, the body's carried on over the 8
    /// that store it. (Words cannot carry on that way: the stored sum xored with itself is 0,
    /// whatever the file.)
    public private(set) var checksum: UInt64 = 0

    /// Bytes an element of each record kind takes.
    static let elementSize: [UInt8: Int] = [0: 4, 1: 8, 2: 1, 3: 8]

    /// Where a decoded shard's record lies in its bytes.
    struct Entry {
        var kind: UInt8
        var offset: Int
        var count: Int
    }

    /// A decoded shard's bytes, its records' places in them, and their names in file order.
    private var source: (any ShardSource)?
    private var index: [String: Entry] = [:]
    private(set) var names: [String] = []

    /// The record named `name`: a written shard's as added, a decoded one's read from its bytes
    /// now (the first of that name).
    func value(_ name: String) throws(PipelineError) -> Value? {
        guard let entry = index[name], let source else { return records.first(where: { $0.name == name })?.value }
        var reader = ByteReader(source, offset: entry.offset)
        // The structure was checked when the shard was decoded: each record fits its bytes, and
        // only a failed read returns nil.
        let value: Value? = switch entry.kind {
        case 0: reader.elements(entry.count, from: Float.init(bitPattern:)).map(Value.floats)
        case 1: reader.elements(entry.count, from: { (bits: Int64) in bits }).map(Value.integers)
        case 2: reader.bytes(entry.count).map(Value.bytes)
        default: reader.elements(entry.count, from: Double.init(bitPattern:)).map(Value.doubles)
        }
        guard let value else { throw PipelineError(source.readFailure ?? "checkpoint shard: record '\(name)' could not be read") }
        return value
    }

    public func floats(_ name: String, path: String) throws(PipelineError) -> [Float] {
        switch try value(name) {
        case .floats(let v)?: return v
        case .floatPieces(let pieces)?: return pieces.flatMap { $0 }
        default: throw PipelineError("checkpoint shard \(path): no record '\(name)'")
        }
    }

    public func integers(_ name: String, path: String) throws(PipelineError) -> [Int] {
        guard case .integers(let v)? = try value(name) else { throw PipelineError("checkpoint shard \(path): no record '\(name)'") }
        return v.map { Int($0) }
    }

    public func doubles(_ name: String, path: String) throws(PipelineError) -> [Double] {
        guard case .doubles(let v)? = try value(name) else { throw PipelineError("checkpoint shard \(path): no record '\(name)'") }
        return v
    }

    public func has(_ name: String) -> Bool { index[name] != nil || records.contains { $0.name == name } }
}
