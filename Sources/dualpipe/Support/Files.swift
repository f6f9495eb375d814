#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation

/// The files flags name: checked before any work, so that a directory, a missing file or a missing
/// folder is refused at once with the flag, the path and the reason (exit 64), and read and written
/// with the system's own words for what went wrong, never a Foundation error code.
enum Files {
    /// The largest file a flag reads (a schedule, loads, a trace): 256 MiB, far above any real one.
    static let maximumReadBytes = 256 << 20

    /// Refuses what cannot be read: an empty name, a missing path, a directory, no read permission,
    /// and with `regularFileOnly` anything but a regular file: a file every rank reads whole
    /// (`--data`, `--schedule-file`) cannot be a pipe (`<(...)`, read once, by one process) or a
    /// device such as /dev/null (no bytes). `-` (standard input) passes where `allowsStandardInput`.
    static func checkReadable(_ path: String, flag: String, allowsStandardInput: Bool = false, regularFileOnly: Bool = false) throws {
        if path == "-" && allowsStandardInput { return }
        guard !path.isEmpty else { throw ValidationError("\(flag) '': a file name is needed") }
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("\(flag) '\(path)': \(systemReason())") }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw ValidationError("\(flag) '\(path)' is a directory, not a file") }
        guard access(path, R_OK) == 0 else { throw ValidationError("\(flag) '\(path)' cannot be read: \(systemReason())") }
        guard regularFileOnly, info.st_mode & S_IFMT != S_IFREG else { return }
        let kind = switch info.st_mode & S_IFMT {
        case S_IFIFO: "a pipe"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a file on disk"
        }
        throw ValidationError("\(flag) '\(path)' is \(kind), not a regular file: it is read whole (by every rank under mpirun), so it must be a file on disk")
    }

    /// Refuses a folder a run will write into (`--checkpoint-dir`) that cannot take what it will
    /// write: a path that is not a folder (or has a file among its parents), or a folder, or the
    /// nearest existing parent of one still to be made, that cannot take a new entry
    /// (`creationFailure`, as `checkWritable` asks), so that a typo ends the run before its first
    /// step, not at its first checkpoint.
    static func checkFolderWritable(_ path: String, flag: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(flag) '': a folder name is needed") }
        var existing = path
        var info = stat()
        while stat(existing, &info) != 0 {
            // ENOTDIR: a parent is a file; going up finds it and says so.
            let failure = errno, parent = parentFolder(of: existing)
            guard failure == ENOENT || failure == ENOTDIR, parent != existing else {
                throw ValidationError("\(flag) '\(path)': \(systemReason(failure))")
            }
            existing = parent
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ValidationError(existing == path ? "\(flag) '\(path)' is not a folder"
                                                   : "\(flag) '\(path)': '\(existing)' is not a folder")
        }
        if let failure = creationFailure(in: existing) {
            throw ValidationError("\(flag) '\(path)': cannot create a folder in '\(existing)': \(systemReason(failure))")
        }
    }

    /// nil where `directory` takes a new entry, else the errno that says why not. Root passes
    /// access() on folders that take none (/proc, /sys): only creating one tells. The probe has a
    /// name of its own, never the path a flag names: every rank checks the same path at once, and
    /// one rank's probe appearing and vanishing there would fail another's stat and open (seen: a
    /// rank exiting 64 alone). Removed at once, and only if this process made it.
    static func creationFailure(in directory: String) -> Int32? {
        guard access(directory, W_OK | X_OK) == 0 else { return errno }
        let probePath = (directory.hasSuffix("/") ? directory : directory + "/") + ".dualpipe-probe-\(getpid())"
        let probe = open(probePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if probe >= 0 {
            close(probe)
            unlink(probePath)
            return nil
        }
        return errno == EEXIST ? nil : errno
    }

    /// The folder holding `path`: "." for a bare name, "/" at the top.
    static func parentFolder(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimmed[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    /// Refuses what cannot be written: an empty name, a directory, a file without write permission,
    /// a folder that does not exist or cannot take a new file.
    static func checkWritable(_ path: String, flag: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(flag) '': a file name is needed") }
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT != S_IFDIR else { throw ValidationError("\(flag) '\(path)' is a directory, not a file") }
            guard access(path, W_OK) == 0 else { throw ValidationError("\(flag) '\(path)' cannot be written: \(systemReason())") }
            // access() grants root everything; opening a regular file for writing (without
            // truncating it) asks the file system itself. Pipes and devices keep access's answer:
            // opening a FIFO with no reader yet would block.
            if info.st_mode & S_IFMT == S_IFREG {
                let descriptor = open(path, O_WRONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw ValidationError("\(flag) '\(path)' cannot be written: \(systemReason())") }
                close(descriptor)
            }
            return
        }
        guard errno == ENOENT else { throw ValidationError("\(flag) '\(path)': \(systemReason())") }
        let directory = parentFolder(of: path)
        guard stat(directory, &info) == 0 else {
            throw ValidationError("\(flag) '\(path)': the folder '\(directory)' does not exist (\(systemReason()))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw ValidationError("\(flag) '\(path)': '\(directory)' is not a folder") }
        if let failure = creationFailure(in: directory) {
            throw ValidationError("\(flag) '\(path)': cannot create a file in '\(directory)': \(systemReason(failure))")
        }
    }

    /// The whole file (or standard input for `-` where allowed), after `checkReadable`.
    static func read(_ path: String, flag: String, allowsStandardInput: Bool = false) throws -> Data {
        try checkReadable(path, flag: flag, allowsStandardInput: allowsStandardInput)
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ValidationError("\(flag) '\(path)' cannot be read: \(systemReason())") }
        defer { if descriptor != 0 { close(descriptor) } }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ValidationError("\(flag) '\(path)' cannot be read: \(systemReason())")
            }
            data.append(contentsOf: chunk[0..<count])
            guard data.count <= maximumReadBytes else {
                throw ValidationError("\(flag) '\(path)' is larger than the limit of \(maximumReadBytes >> 20) MiB (docs/inputs.md)")
            }
        }
        return data
    }

    /// The file as UTF-8 text.
    static func readText(_ path: String, flag: String) throws -> String {
        let data = try read(path, flag: flag)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(flag) '\(path)' is not UTF-8 text")
        }
        return text
    }

    /// Writes `text` to `path` (created or truncated), or to standard output when `path` is nil. A
    /// path that cannot be written is refused (exit 64); a write that fails midway (a full disk)
    /// is a runtime failure (exit 1).
    static func write(_ text: String, to path: String?, flag: String) throws {
        guard let path else { print(text, terminator: ""); return }
        try checkWritable(path, flag: flag)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ValidationError("\(flag) '\(path)' cannot be written: \(systemReason())") }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = systemReason()
                close(descriptor)
                throw RuntimeFailure("writing \(flag) '\(path)' failed: \(reason)")
            }
            bytes = bytes.dropFirst(count)
        }
        guard close(descriptor) == 0 else { throw RuntimeFailure("writing \(flag) '\(path)' failed: \(systemReason())") }
    }

    /// strerror(code), by default of errno, e.g. "No such file or directory".
    static func systemReason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}

/// A failure while working (not a bad input): printed as it is, exit code 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
