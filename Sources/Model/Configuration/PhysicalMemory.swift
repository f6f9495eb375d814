#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What memory this process may use, and where that figure came from, for messages.
public struct MemoryLimit: Sendable, Equatable {
    public var bytes: Int
    /// The cgroup whose limit this is ("/slurm/uid_0/job_12"); nil for the machine's MemTotal.
    public var cgroup: String?

    public init(bytes: Int, cgroup: String? = nil) {
        self.bytes = bytes
        self.cgroup = cgroup
    }

    /// Whether the limit is a cgroup's rather than the machine's.
    public var isCgroup: Bool { cgroup != nil }
    /// "MemTotal", or "the memory limit of cgroup /slurm/uid_0/job_12".
    public var source: String { cgroup.map { "the memory limit of cgroup \($0)" } ?? "MemTotal" }
}

/// The machine's memory, for refusing a configuration that cannot fit before anything is allocated.
public enum PhysicalMemory {
    /// MemTotal of /proc/meminfo in bytes; nil where there is no such file.
    public static var total: Int? {
        guard let text = contents("/proc/meminfo") else { return nil }
        // "MemTotal:       24684096 kB"
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kibibytes = Int(fields[1]) else { return nil }
        return kibibytes * 1024
    }

    /// The smaller of MemTotal and the memory limit of this process's cgroup or any cgroup above
    /// it (a Slurm job's `--mem` under its cgroup plugin, a container's `--memory`): what the
    /// kernel lets this process and its siblings in that cgroup use before it kills one. nil where
    /// neither is known (then nothing is refused for memory).
    public static var limit: MemoryLimit? {
        let machine = total.map { MemoryLimit(bytes: $0) }
        guard let group = cgroupLimit(), group.bytes < machine?.bytes ?? Int.max else { return machine }
        return group
    }

    /// The lowest memory limit on the path of this process's cgroup, read from
    /// /proc/self/cgroup: cgroup v2's `memory.max` under /sys/fs/cgroup, or v1's
    /// `memory.limit_in_bytes` under /sys/fs/cgroup/memory. "max" and v1's near-2^63 mean none.
    static func cgroupLimit(procSelfCgroup: String? = contents("/proc/self/cgroup"), root: String = "/sys/fs/cgroup") -> MemoryLimit? {
        guard let table = procSelfCgroup else { return nil }
        var lowest: MemoryLimit?
        for line in table.split(separator: "\n") {
            // "0::/user.slice/..." (v2) or "4:memory:/slurm/uid_0/job_12" (v1)
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let (directory, file): (String, String)
            if fields[0] == "0" && fields[1].isEmpty {
                (directory, file) = (root, "memory.max")
            } else if fields[1].split(separator: ",").contains("memory") {
                (directory, file) = (root + "/memory", "memory.limit_in_bytes")
            } else {
                continue
            }
            var path = String(fields[2])
            while true {
                let limitText = contents(directory + (path == "/" ? "" : path) + "/" + file)?.split(separator: "\n").first
                if let limitText, let bytes = Int(limitText), bytes < 1 << 62, bytes < lowest?.bytes ?? Int.max {
                    lowest = MemoryLimit(bytes: bytes, cgroup: path)
                }
                guard path != "/", let slash = path.lastIndex(of: "/") else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }
        return lowest
    }

    /// A small text file whole (a /proc or /sys entry), nil if it cannot be read.
    static func contents(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `bytes` with one decimal in GiB, or in MiB below 1 GiB, for messages ("37.2 GiB").
    public static func formatted(_ bytes: Double) -> String {
        let (value, unit) = bytes < 1_073_741_824 ? (bytes / 1_048_576, "MiB") : (bytes / 1_073_741_824, "GiB")
        let tenths = (value * 10).rounded()
        guard tenths.isFinite, tenths < 1e15 else { return "\(value) \(unit)" }
        let whole = Int(tenths)
        return "\(whole / 10).\(whole % 10) \(unit)"
    }
}
