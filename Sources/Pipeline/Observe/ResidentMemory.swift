import Foundation

/// This process's resident set size in bytes, from /proc/self/statm (0 where it cannot be read).
public func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(whereSeparator: \.isWhitespace)
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The most this process has held resident since it started (VmHWM in /proc/self/status, in
/// bytes; 0 where it cannot be read): the peaks between steps too, a checkpoint's save or
/// restore, which the resident set after each step does not see.
public func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    let fields = line.split(whereSeparator: \.isWhitespace)
    guard fields.count >= 3, let kibibytes = Int(fields[1]), fields[2] == "kB" else { return 0 }
    return kibibytes * 1024
}
