import Foundation

/// A text file read as bytes: the byte-level language model's corpus.
public struct ByteCorpus: Sendable {
    public let bytes: [UInt8]
    /// Where the bytes came from, for messages.
    public let source: String

    /// The default corpus: the licence texts of Debian's `base-files` package (present on every
    /// Debian system, so no download): GPL, LGPL, Apache, Artistic, MPL, GFDL, BSD and CC0
    /// texts concatenated in this order. Files missing on this machine are skipped.
    public static let defaultFiles = [
        "GPL-3", "GPL-2", "GPL-1", "LGPL-3", "LGPL-2.1", "LGPL-2", "Apache-2.0", "Artistic",
        "MPL-2.0", "MPL-1.1", "GFDL-1.3", "GFDL-1.2", "BSD", "CC0-1.0",
    ].map { "/usr/share/common-licenses/" + $0 }

    public init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// The bytes of `path`.
    public init(contentsOf path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("data file \(path) does not exist or cannot be read")
        }
        self.init(bytes: [UInt8](data), source: path)
    }

    /// The concatenation of `defaultFiles` found on this machine.
    public static func standard() throws(ConfigurationError) -> ByteCorpus {
        var bytes: [UInt8] = []
        var found = 0
        for path in defaultFiles {
            if let data = FileManager.default.contents(atPath: path) {
                bytes.append(contentsOf: data)
                found += 1
            }
        }
        guard found > 0 else {
            throw ConfigurationError("no default corpus: none of /usr/share/common-licenses/{GPL-3, ...} exists (package base-files); pass --data FILE")
        }
        return ByteCorpus(bytes: bytes, source: "/usr/share/common-licenses (\(found) licence texts)")
    }
}
