import Foundation

/// The CPU as /proc/cpuinfo names it, for benchmark headers: every published number says which
/// CPU it came from.
func cpuModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let name = line.split(separator: ":", maxSplits: 1).last else { return "unknown CPU" }
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores of \(name.trimmingCharacters(in: .whitespaces))"
}
