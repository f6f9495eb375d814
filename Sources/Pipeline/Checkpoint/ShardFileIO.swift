import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// A shard's way to and from the disk.
extension ShardFile {
    /// Writes the shard to `path` whole or not at all (`atomically`), streamed through a buffer
    /// rather than encoded in memory first: a save needs no second copy of the rank's state.
    /// Returns its checksum, the one its manifest lists.
    public func write(to path: String) throws(PipelineError) -> UInt64 {
        var checksum: UInt64 = 0
        try Self.atomically(path) { checksum = encode(into: &$0) }
        return checksum
    }

    /// Writes `bytes` to `path` whole or not at all (`atomically`).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(PipelineError) {
        try atomically(path) { $0.put(bytes) }
    }

    /// Has `fill` stream a temporary file beside `path`, then fsync, rename and an fsync of the
    /// folder, so that `path` is the whole file or absent; on a failure the temporary file goes.
    static func atomically(_ path: String, _ fill: (inout ShardFileStream) -> Void) throws(PipelineError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PipelineError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        do throws(PipelineError) {
            var stream = ShardFileStream(fd: fd, path: temporary)
            fill(&stream)
            try stream.finish()
            guard fsync(fd) == 0 else { throw PipelineError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw PipelineError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))") }
        syncFolder(of: path)
    }

    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

/// A file written through a buffer of `capacity` bytes. The first failed write is kept (later
/// bytes are dropped) and `finish` throws it, so that encoding needs no error path of its own.
/// Every `writebackWindow` bytes it asks the kernel to start writing them to the disk, so that
/// the disk works while the rest is encoded and the fsync after `finish` waits for the tail alone
/// (a 1 GB checkpoint's fsyncs took 0.4 to 0.5 s of a 0.9 to 1.2 s save, docs/reliability.md).
struct ShardFileStream: ShardSink {
    let fd: Int32
    /// Named in the error.
    let path: String
    private var buffer: [UInt8] = []
    private let capacity: Int
    private var failure: Int32 = 0
    /// Bytes handed to the file so far, and the first of them whose writeback is not started.
    private var written: Int64 = 0
    private var writebackFrom: Int64 = 0
    private let writebackWindow: Int64
    private let startWriteback: (_ fd: Int32, _ offset: Int64, _ count: Int64) -> Void

    init(fd: Int32, path: String, capacity: Int = 1 << 20, writebackWindow: Int = 8 << 20,
         startWriteback: @escaping (_ fd: Int32, _ offset: Int64, _ count: Int64) -> Void = Writeback.start) {
        (self.fd, self.path, self.capacity) = (fd, path, capacity)
        (self.writebackWindow, self.startWriteback) = (Int64(writebackWindow), startWriteback)
        buffer.reserveCapacity(capacity)
    }

    mutating func put(raw bytes: UnsafeRawBufferPointer) {
        var start = 0
        while start < bytes.count && failure == 0 {
            let n = min(capacity - buffer.count, bytes.count - start)
            // A buffer pointer, not a slice of one, so that the append is one copy of memory.
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)]))
            start += n
            if buffer.count == capacity { flush() }
        }
    }

    private mutating func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count && failure == 0 {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : EIO } else { done += n }
            }
        }
        buffer.removeAll(keepingCapacity: true)
        written += Int64(done)
        if failure == 0 && written - writebackFrom >= writebackWindow {
            startWriteback(fd, writebackFrom, written - writebackFrom)
            writebackFrom = written
        }
    }

    /// Writes what the buffer holds; throws the first failure.
    mutating func finish() throws(PipelineError) {
        if failure == 0 { flush() }
        guard failure == 0 else { throw PipelineError("cannot write \(path): \(String(cString: strerror(failure)))") }
    }
}

/// The kernel's writeback of a file's range, started without waiting for it (Linux's
/// `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which the Glibc module does not export). A
/// hint only: where the call is missing or the file system refuses it, the fsync does it all.
enum Writeback {
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange = GlibcExtension.function("sync_file_range", as: SyncFileRange.self)
    /// SYNC_FILE_RANGE_WRITE of <fcntl.h>.
    private static let write: UInt32 = 2

    static func start(fd: Int32, offset: Int64, count: Int64) {
        _ = syncFileRange?(fd, offset, count, write)
    }
}

/// A shard file held open and read where asked (pread), so that a restore holds the records it
/// is loading and not the file's bytes. The open descriptor keeps reading the file that was
/// checked, even if another is renamed over its name meanwhile.
final class FileShard: ShardSource {
    let path: String
    let count: Int
    private let fd: Int32
    private(set) var readFailure: String?

    init(path: String) throws(PipelineError) {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PipelineError("checkpoint shard \(path) is missing or unreadable: \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = errno
            close(fd)
            throw PipelineError("cannot stat \(path): \(String(cString: strerror(failure)))")
        }
        (self.path, count) = (path, Int(info.st_size))
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                readFailure = "cannot read \(path): " + (n < 0 ? String(cString: strerror(errno)) : "it ended at byte \(offset + done) of \(count) (cut short while it was read)")
                return false
            }
            done += n
        }
        return true
    }
}
