import Foundation

/// Transparent huge pages for the tensors. glibc backs malloc with 4 KiB pages unless the
/// `glibc.malloc.hugetlb=1` tunable asks it to advise the kernel otherwise (MADV_HUGEPAGE on the
/// heap it grows), and the tunable is read when the dynamic loader starts, so it has to be in the
/// environment before the program runs: `ProcessRestart` sets it and executes the program again.
/// On this project's development VM, an MLP block's products on 2 MiB pages ran 1 to 5% faster
/// than on 4 KiB ones, timed alternately in one process (`dualpipe bench blas --pages`): the
/// packing routines walk rows 2 to 8 KiB apart. A user's own `glibc.malloc.hugetlb` wins, and a kernel
/// with THP off (`never`) gets nothing asked of it.
enum HugePages {
    static let tunable = "glibc.malloc.hugetlb"

    /// The kernel's transparent huge page mode (`always`, `madvise` or `never`), nil where unknown.
    static var kernelMode: String? {
        guard let text = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8),
              let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    /// The GLIBC_TUNABLES value that adds `glibc.malloc.hugetlb=1` to `current`, or nil when
    /// nothing is to change: the user set the tunable, or the kernel has no THP to give.
    static func tunables(adding current: String?, kernelMode: String?) -> String? {
        guard let kernelMode, kernelMode != "never" else { return nil }
        if let current, current.split(separator: ":").contains(where: { $0.hasPrefix(tunable + "=") }) { return nil }
        let setting = "\(tunable)=1"
        guard let current, !current.isEmpty else { return setting }
        return current + ":" + setting
    }

    /// The value of `glibc.malloc.hugetlb` in this process's GLIBC_TUNABLES, nil where unset.
    static var setting: String? {
        ProcessInfo.processInfo.environment["GLIBC_TUNABLES"]?.split(separator: ":")
            .first { $0.hasPrefix(tunable + "=") }.map { String($0.dropFirst(tunable.count + 1)) }
    }

    /// `env`'s column: `huge` where malloc asks for huge pages and the kernel gives them, else `4k`.
    static var column: String { setting == "1" && (kernelMode ?? "never") != "never" ? "huge" : "4k" }

    /// How the tensors' pages were chosen, for the first line of a run.
    static var description: String {
        let mode = kernelMode ?? "unknown"
        switch setting {
        case "1" where mode != "never": return "huge pages (\(tunable)=1, THP \(mode))"
        case nil: return "4 KiB pages (THP \(mode))"
        case let value?: return "\(tunable)=\(value) (THP \(mode))"
        }
    }
}
