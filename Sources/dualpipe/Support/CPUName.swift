import Foundation

/// The CPU as /proc/cpuinfo names it, with its family and model, for benchmark headers: every
/// published number says which CPU it came from, and a VM's name alone ("AMD EPYC") does not tell
/// one generation from another.
func cpuModelName() -> String {
    "\(ProcessInfo.processInfo.activeProcessorCount) cores of \(cpuDescription())"
}

/// The first processor's model name in /proc/cpuinfo with its family and model:
/// "AMD EPYC (family 25, model 17)".
func cpuDescription() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    // The first processor's fields: the block up to the first empty line.
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty { break }
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let key = parts[0].trimmingCharacters(in: .whitespaces)
        if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    guard var name = fields["model name"] else { return "unknown CPU" }
    if let family = fields["cpu family"], let model = fields["model"] { name += " (family \(family), model \(model))" }
    return name
}
