import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Pipeline
import Testing

/// A checkpoint shard decodes to what was written, and any damage is refused with the file named,
/// never a crash: every truncation, every flipped byte, a record length no file could hold.
@Suite struct ShardFileTests {
    static var written: ShardFile {
        var file = ShardFile()
        file.add("meta", integers: [3, 1, 0, 1, 2, -7])
        file.add("stage0.dense", [1.5, -0.25, .greatestFiniteMagnitude, 0])
        file.add("loads", doubles: [0.125, 1e300])
        file.add("name", bytes: Array("é".utf8))
        file.add("empty", [])
        return file
    }

    @Test func recordsRoundTrip() throws {
        let shard = try ShardFile(decoding: Self.written.encoded(), path: "s")
        #expect(try shard.integers("meta", path: "s") == [3, 1, 0, 1, 2, -7])
        #expect(try shard.floats("stage0.dense", path: "s") == [1.5, -0.25, .greatestFiniteMagnitude, 0])
        #expect(try shard.doubles("loads", path: "s") == [0.125, 1e300])
        #expect(try shard.floats("empty", path: "s") == [])
        #expect(shard.has("name") && !shard.has("stage1.dense"))
        #expect(try shard.names.map { try shard.value($0) } == Self.written.records.map(\.value))
        let missing = #expect(throws: PipelineError.self) { try shard.floats("stage1.dense", path: "s") }
        #expect(missing?.description == "checkpoint shard s: no record 'stage1.dense'")
    }

    /// Manifests list each shard's own checksum: the one it ends with, a word hash of the rest.
    @Test func theFileChecksumIsTheOneTheShardEndsWith() throws {
        let bytes = Self.written.encoded(), body = bytes.count - 8
        let words = bytes.withUnsafeBytes { ShardChecksum.fnv1aWords(UnsafeRawBufferPointer(rebasing: $0[..<body])) }
        #expect(try ShardFile(decoding: bytes, path: "s").checksum == words)
        #expect(words != bytes.withUnsafeBytes { ShardChecksum.fnv1aBytes(UnsafeRawBufferPointer(rebasing: $0[..<body])) })
    }

    /// Streamed to its file through a buffer (here of 24 bytes, so that records cross many
    /// flushes), a shard is the bytes `encoded()` gives, and its sum is the one they end with.
    @Test func aStreamedShardIsTheEncodedOne() throws {
        var file = Self.written
        file.add("long", (0..<1001).map { Float($0) * 0.5 })
        file.add("odd", bytes: [1, 2, 3])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var stream = ShardFileStream(fd: fd, path: path, capacity: 24)
        let checksum = file.encode(into: &stream)
        try stream.finish()
        close(fd)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try bytes == file.encoded() && checksum == ShardFile(decoding: bytes, path: path).checksum)
        #expect(try ShardFile(decoding: bytes, path: path).floats("long", path: path).count == 1001)
        #expect(try file.write(to: path) == checksum && Array(try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    /// Each window of bytes handed to the file has its writeback started once, in order, with
    /// no byte left out but the tail under a window; the file is the shard all the same, with the
    /// kernel's own call too.
    @Test func theWritebackFollowsTheStreamWindowByWindow() throws {
        final class Started { var ranges: [(offset: Int64, count: Int64)] = [] }
        var file = Self.written
        file.add("long", (0..<2500).map { Float($0) })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("writeback-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for recorded in [true, false] {
            let started = Started(), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            var stream = recorded
                ? ShardFileStream(fd: fd, path: path, capacity: 24, writebackWindow: 1000) { _, offset, count in started.ranges.append((offset, count)) }
                : ShardFileStream(fd: fd, path: path, capacity: 24, writebackWindow: 1000)
            _ = file.encode(into: &stream)
            try stream.finish()
            close(fd)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == file.encoded())
            guard recorded else { continue }
            let size = Int64(try file.encoded().count)
            #expect(started.ranges.count >= 9) // about 10 kB
            var next: Int64 = 0
            for range in started.ranges {
                #expect(range.offset == next && range.count >= 1000 && range.count < 1024)
                next += range.count
            }
            #expect(size - next < 1000)
        }
    }

    /// Read from its file a piece at a time, a shard gives what was written and the checksum its
    /// manifest lists; damage is named as in memory, and so is a file cut short after it was
    /// opened, when a record is read.
    @Test func aShardReadFromItsFileRecordByRecord() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var file = Self.written
        file.add("long", (0..<300_000).map { Float($0) })
        let checksum = try file.write(to: path)
        let shard = try ShardFile(reading: path)
        #expect(shard.checksum == checksum && shard.names == file.records.map(\.name))
        #expect(try shard.names.map { try shard.value($0) } == file.records.map(\.value))
        var bytes = file.encoded()
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = #expect(throws: PipelineError.self) { try ShardFile(reading: path) }
        #expect(damaged?.description == "checkpoint shard \(path): checksum mismatch: the file is damaged (or was changed after it was written)")
        try Data(file.encoded()).write(to: URL(fileURLWithPath: path))
        let opened = try ShardFile(reading: path)
        #expect(truncate(path, 100) == 0)
        let cut = #expect(throws: PipelineError.self) { try opened.floats("long", path: path) }
        #expect(cut?.description.hasPrefix("cannot read \(path): it ended at byte ") == true && cut?.description.hasSuffix("(cut short while it was read)") == true)
        let missing = #expect(throws: PipelineError.self) { try ShardFile(reading: path + ".none") }
        #expect(missing?.description == "checkpoint shard \(path).none is missing or unreadable: No such file or directory")
    }

    /// The words' sum over bytes that come in pieces of any length is the sum over the whole.
    @Test func theWordsSumDoesNotDependOnThePieces() {
        let bytes = (0..<203).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = bytes.withUnsafeBytes { ShardChecksum.fnv1aWords($0) }
        for cuts in [[1, 2, 3], [7, 8, 9, 100], [5, 13, 21, 29, 202], [64, 128, 192], [0, 203]] {
            var sum = ShardChecksum.Words()
            bytes.withUnsafeBytes { raw in
                for (start, end) in zip([0] + cuts, cuts + [203]) { sum.add(UnsafeRawBufferPointer(rebasing: raw[start..<end])) }
            }
            #expect(sum.value == whole, "cut at \(cuts)")
        }
    }

    /// A write that fails is named, with its file, and leaves neither the file nor its temporary.
    @Test func aFailedWriteIsNamedAndLeavesNothing() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nowrite-\(UUID().uuidString)").path
        let error = #expect(throws: PipelineError.self) { _ = try Self.written.write(to: folder + "/shard") }
        #expect(error?.description == "cannot create \(folder)/shard.tmp: No such file or directory")
        let full = "/dev/full"
        let fd = open(full, O_WRONLY)
        var stream = ShardFileStream(fd: fd, path: full, capacity: 24)
        Self.written.encode(into: &stream)
        let failure = #expect(throws: PipelineError.self) { try stream.finish() }
        close(fd)
        #expect(failure?.description == "cannot write /dev/full: No space left on device")
    }

    /// Format 1, as this program wrote it until format 2 (the same records, hashed a byte at a
    /// time): it still reads, its manifests' sums (byte-wise FNV-1a over the whole file) still
    /// match, and damage to it is still refused.
    static let formatOne: [UInt8] = [
        0x44, 0x50, 0x53, 0x48, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x6d, 0x65, 0x74,
        0x61, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x0c, 0x00, 0x00, 0x00, 0x73, 0x74, 0x61, 0x67, 0x65, 0x30, 0x2e, 0x64, 0x65, 0x6e, 0x73, 0x65, 0x00, 0x04,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x80, 0xbe, 0xff, 0xff, 0x7f, 0x7f,
        0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x6c, 0x6f, 0x61, 0x64, 0x73, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3f, 0x9c, 0x75, 0x00, 0x88, 0x3c, 0xe4, 0x37, 0x7e,
        0x04, 0x00, 0x00, 0x00, 0x6e, 0x61, 0x6d, 0x65, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc3, 0xa9,
        0x05, 0x00, 0x00, 0x00, 0x65, 0x6d, 0x70, 0x74, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8,
        0x48, 0xd3, 0x8f, 0xcb, 0x64, 0x5a, 0x92
    ]

    @Test func formatOneShardsStillRead() throws {
        let bytes = Self.formatOne
        #expect(bytes[4] == 1 && bytes != Self.written.encoded())
        let shard = try ShardFile(decoding: bytes, path: "s")
        #expect(shard.names == Self.written.records.map(\.name))
        #expect(try shard.names.map { try shard.value($0) } == Self.written.records.map(\.value))
        #expect(shard.checksum == bytes.withUnsafeBytes { ShardChecksum.fnv1aBytes($0) })
        Self.expectEveryFlippedByteRefused(bytes)
    }

    @Test func aFormatThisProgramDoesNotKnowIsNamed() {
        var bytes = Self.written.encoded()
        bytes[4] = 3
        let error = #expect(throws: PipelineError.self) { try ShardFile(decoding: bytes, path: "s") }
        #expect(error?.description == "checkpoint shard s: format 3, this program reads formats 1 to 2")
    }

    static func expectEveryFlippedByteRefused(_ bytes: [UInt8]) {
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x5a
            #expect(throws: PipelineError.self, "byte \(i) flipped") { try ShardFile(decoding: damaged, path: "s") }
        }
    }

    @Test func everyTruncationAndEveryFlippedByteIsRefused() {
        let bytes = Self.written.encoded()
        for length in 0..<bytes.count {
            #expect(throws: PipelineError.self, "cut to \(length) bytes") { try ShardFile(decoding: Array(bytes[..<length]), path: "s") }
        }
        Self.expectEveryFlippedByteRefused(bytes)
    }

    /// A record's element count (8 bytes after its name and kind) beyond any file: refused as a
    /// cut file, where converting it to Int would trap.
    @Test func aLengthNoFileCouldHoldIsRefused() {
        var bytes = Self.written.encoded()
        // Header: magic (4), format (4), record count (4); the first record: name length (4), "meta" (4), kind (1).
        let count = 4 + 4 + 4 + 4 + 4 + 1
        for (value, why) in [(UInt64.max, "truncated after 0 of 5 records (\(bytes.count) bytes): the file was cut short"),
                             (UInt64(Int.max), "truncated in record 'meta'"), (1 << 62, "truncated in record 'meta'")] {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(count..<(count + 8), with: $0) }
            let error = #expect(throws: PipelineError.self, "length \(value)") { try ShardFile(decoding: bytes, path: "s") }
            #expect(error?.description == "checkpoint shard s: \(why)")
        }
    }
}
