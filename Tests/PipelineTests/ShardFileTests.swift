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
        let missing = #expect(throws: PipelineError.self) { try shard.floats("stage1.dense", path: "s") }
        #expect(missing?.description == "checkpoint shard s: no record 'stage1.dense'")
    }

    /// Manifests list each shard's checksum over the whole file; it is the body's, carried on
    /// over the 8 bytes that store it.
    @Test func theFileChecksumIsFNV1aOfTheWholeFile() {
        let bytes = Self.written.encoded()
        #expect(ShardFile.fileChecksum(bytes) == fnv1a(bytes))
        #expect(fnv1a(bytes[16...], continuing: fnv1a(bytes[..<16])) == fnv1a(bytes))
    }

    @Test func everyTruncationAndEveryFlippedByteIsRefused() {
        let bytes = Self.written.encoded()
        for length in 0..<bytes.count {
            #expect(throws: PipelineError.self, "cut to \(length) bytes") { try ShardFile(decoding: Array(bytes[..<length]), path: "s") }
        }
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x5a
            #expect(throws: PipelineError.self, "byte \(i) flipped") { try ShardFile(decoding: damaged, path: "s") }
        }
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
