/// The checksums a shard ends with. Format 1 hashed the body a byte at a time with FNV-1a 64;
/// every byte waits on a 64-bit multiply, about 1 GB/s, which made the hash a fifth of a save.
/// Format 2 feeds FNV-1a the body's little-endian 64-bit words (the 0 to 7 bytes after the last
/// whole word one at a time): eight bytes a multiply. Either way the state after each input is a
/// bijection of the state before (xor, then a multiply by an odd prime), so a change to any one
/// word, a flipped byte among them, always changes the sum.
enum ShardChecksum {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x100_0000_01b3

    static func fnv1aBytes(_ bytes: UnsafeRawBufferPointer, continuing hash: UInt64 = offsetBasis) -> UInt64 {
        var hash = hash
        for b in bytes { hash = (hash ^ UInt64(b)) &* prime }
        return hash
    }

    static func fnv1aWords(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var words = Words()
        words.add(bytes)
        return words.value
    }

    /// Format 1's manifest sum: the stored one carried on over its own 8 bytes.
    static func carriedOver(_ stored: UInt64) -> UInt64 {
        withUnsafeBytes(of: stored.littleEndian) { fnv1aBytes($0, continuing: stored) }
    }

    /// The checksum of `format` over bytes that come in pieces.
    struct Summing {
        private let format: UInt32
        private var bytes = offsetBasis
        private var words = Words()

        init(format: UInt32) { self.format = format }

        mutating func add(_ piece: UnsafeRawBufferPointer) {
            if format == 1 { bytes = fnv1aBytes(piece, continuing: bytes) } else { words.add(piece) }
        }

        var value: UInt64 { format == 1 ? bytes : words.value }
    }

    /// Format 2's checksum over bytes that come in pieces of any length (a shard streamed to its
    /// file through a buffer): the same sum as over the whole at once.
    struct Words {
        private var hash = offsetBasis
        /// Bytes of a word begun in an earlier piece, in its low bytes.
        private var partial: UInt64 = 0
        private var partialBytes = 0

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            var start = 0
            while partialBytes > 0 && start < bytes.count {
                partial |= UInt64(bytes[start]) << (8 * partialBytes)
                (start, partialBytes) = (start + 1, partialBytes + 1)
                if partialBytes == 8 { hash = (hash ^ partial) &* prime; (partial, partialBytes) = (0, 0) }
            }
            let words = (bytes.count - start) / 8
            for i in 0..<words {
                hash = (hash ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))) &* prime
            }
            for b in bytes[(start + 8 * words)...] {
                partial |= UInt64(b) << (8 * partialBytes)
                partialBytes += 1
            }
        }

        /// The sum so far, the bytes short of a word taken one at a time.
        var value: UInt64 {
            var hash = hash
            for i in 0..<partialBytes { hash = (hash ^ ((partial >> (8 * i)) & 0xff)) &* prime }
            return hash
        }
    }
}
