#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's memory, for refusing a configuration that cannot fit before anything is allocated.
public enum PhysicalMemory {
    /// MemTotal of /proc/meminfo in bytes; nil where there is no such file (then nothing is refused
    /// for memory).
    public static var total: Int? {
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("MemTotal:") else { continue }
            // "MemTotal:       24684096 kB"
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kibibytes = Int(fields[1]) else { return nil }
            return kibibytes * 1024
        }
        return nil
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
