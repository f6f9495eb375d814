import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint shard on disk: named records of numbers, then a checksum of everything before it.
///
///     "DPSH" | format UInt32 | records UInt32 | record* | FNV-1a 64 of all the bytes before
///     record = name length UInt32 | name UTF-8 | kind UInt8 (0 Float, 1 Int64, 2 bytes) | count UInt64 | payload
///
/// Little-endian. Written to a temporary file, fsynced and renamed, so a shard is either whole
/// or absent; the checksum catches a shard damaged later.
public struct ShardFile {
    public static let magic: [UInt8] = Array("DPSH".utf8)
    public static let format: UInt32 = 1

    public enum Value: Equatable {
        case floats([Float])
        case integers([Int64])
        case bytes([UInt8])
        case doubles([Double])
    }

    public var records: [(name: String, value: Value)] = []

    public init() {}

    public mutating func add(_ name: String, _ floats: [Float]) { records.append((name, .floats(floats))) }
    public mutating func add(_ name: String, integers: [Int]) { records.append((name, .integers(integers.map(Int64.init)))) }
    public mutating func add(_ name: String, bytes: [UInt8]) { records.append((name, .bytes(bytes))) }
    public mutating func add(_ name: String, doubles: [Double]) { records.append((name, .doubles(doubles))) }

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.append(le: Self.format)
        out.append(le: UInt32(records.count))
        for (name, value) in records {
            let utf8 = Array(name.utf8)
            out.append(le: UInt32(utf8.count))
            out += utf8
            switch value {
            case .floats(let v):
                out.append(0); out.append(le: UInt64(v.count))
                for x in v { out.append(le: x.bitPattern) }
            case .integers(let v):
                out.append(1); out.append(le: UInt64(v.count))
                for x in v { out.append(le: UInt64(bitPattern: x)) }
            case .bytes(let v):
                out.append(2); out.append(le: UInt64(v.count))
                out += v
            case .doubles(let v):
                out.append(3); out.append(le: UInt64(v.count))
                for x in v { out.append(le: x.bitPattern) }
            }
        }
        out.append(le: fnv1a(out))
        return out
    }

    /// Parses a shard, checking its magic, format, record structure and checksum; errors name `path`.
    public init(decoding bytes: [UInt8], path: String) throws(PipelineError) {
        func fail(_ why: String) -> PipelineError { PipelineError("checkpoint shard \(path): \(why)") }
        guard bytes.count >= 20, Array(bytes[0..<4]) == Self.magic else { throw fail("not a dualpipe checkpoint shard (bad header; \(bytes.count) bytes)") }
        let body = bytes[0..<(bytes.count - 8)]
        var reader = ByteReader(bytes: bytes, offset: 4, end: body.count)
        guard let format = reader.u32(), let count = reader.u32() else { throw fail("truncated header") }
        guard format == Self.format else { throw fail("format \(format), this program reads format \(Self.format)") }
        for _ in 0..<count {
            guard let length = reader.u32(), let name = reader.bytes(Int(length)).map({ String(decoding: $0, as: UTF8.self) }),
                  let kind = reader.bytes(1)?.first, let n = reader.u64().flatMap({ Int(exactly: $0) }) else {
                throw fail("truncated after \(records.count) of \(count) records (\(bytes.count) bytes): the file was cut short")
            }
            let value: Value
            switch kind {
            case 0: guard let v = reader.floats(n) else { throw fail("truncated in record '\(name)'") }; value = .floats(v)
            case 1: guard let v = reader.integers(n) else { throw fail("truncated in record '\(name)'") }; value = .integers(v)
            case 2: guard let v = reader.bytes(n) else { throw fail("truncated in record '\(name)'") }; value = .bytes(v)
            case 3:
                guard let v = reader.integers(n) else { throw fail("truncated in record '\(name)'") }
                value = .doubles(v.map { Double(bitPattern: UInt64(bitPattern: $0)) })
            default: throw fail("record '\(name)' has unknown kind \(kind)")
            }
            records.append((name, value))
        }
        guard reader.offset == body.count else { throw fail("\(body.count - reader.offset) stray bytes after the records: the file is damaged") }
        var tail = ByteReader(bytes: bytes, offset: bytes.count - 8)
        guard let stored = tail.u64(), stored == fnv1a(body) else {
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

    /// The FNV-1a 64 of a whole shard file, as its manifest lists it, for `bytes` that `encoded()`
    /// made or `init(decoding:)` accepted: their last 8 bytes hold the checksum of all before
    /// them, so only those 8 are hashed again.
    public static func fileChecksum(_ bytes: [UInt8]) -> UInt64 {
        var tail = ByteReader(bytes: bytes, offset: bytes.count - 8)
        return fnv1a(bytes[(bytes.count - 8)...], continuing: tail.u64()!)
    }

    /// Writes `bytes` to `path` whole or not at all: a temporary file beside it, fsync, rename, fsync of the folder.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(PipelineError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PipelineError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let error = errno
        close(fd)
        guard ok else { throw PipelineError("cannot write \(temporary): \(String(cString: strerror(error)))") }
        guard rename(temporary, path) == 0 else { throw PipelineError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))") }
        syncFolder(of: path)
    }

    /// The bytes of the file at `path`, read straight into one array (no second copy on the way).
    public static func readWhole(_ path: String) throws(PipelineError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PipelineError("checkpoint shard \(path) is missing or unreadable: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PipelineError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while count < size {
                let n = read(fd, buffer.baseAddress! + count, size - count)
                if n <= 0 { failure = n < 0 ? errno : EIO; break }
                count += n
            }
        }
        guard failure == 0 else { throw PipelineError("cannot read \(path): \(String(cString: strerror(failure)))") }
        return bytes
    }

    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

/// FNV-1a 64 over bytes, or over more bytes after those that gave `hash`.
func fnv1a(_ bytes: ArraySlice<UInt8>, continuing hash: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var hash = hash
    for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
    return hash
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 { fnv1a(bytes[...]) }

extension Array where Element == UInt8 {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
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

    /// `n` elements of `size` bytes, each made by `element` from its bits.
    private mutating func array<T>(_ n: Int, size: Int, _ element: (UnsafeRawBufferPointer, Int) -> T) -> [T]? {
        guard fits(n, size: size) else { return nil }
        defer { offset += size * n }
        return bytes.withUnsafeBytes { [offset] raw in (0..<n).map { element(raw, offset + size * $0) } }
    }

    mutating func floats(_ n: Int) -> [Float]? {
        array(n, size: 4) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self))) }
    }

    mutating func integers(_ n: Int) -> [Int64]? {
        array(n, size: 8) { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) }
    }
}
