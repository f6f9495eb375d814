/// Which OpenBLAS kernels a CPU should run. Debian 12's OpenBLAS 0.3.21 does not know the
/// newest Intel Xeons (Sapphire and Emerald Rapids) and falls back to its Prescott kernels
/// there, about 5x slower sgemm than its SkylakeX kernels on the same core. OpenBLAS reads
/// OPENBLAS_CORETYPE when it loads, so a program that wants other kernels must set it and start
/// again (`dualpipe` does, before MPI starts); a user's own OPENBLAS_CORETYPE always wins.
public enum BLASCore {
    /// Kernel families OpenBLAS falls back to for a CPU it does not recognise: all of them
    /// predate AVX2, so on a CPU with AVX2 + FMA (or AVX-512) they leave most of it unused.
    public static let genericFallbacks: Set<String> = [
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood", "Banias", "Sandybridge",
    ]

    /// The OPENBLAS_CORETYPE to use on a CPU with `flags` (as /proc/cpuinfo lists them) where
    /// OpenBLAS loaded `loaded`: SkylakeX with AVX-512 F, BW, DQ and VL, Haswell with AVX2 and
    /// FMA, and nil when the loaded kernels are not a generic fallback or nothing better fits.
    public static func recommended(cpuFlags flags: Set<String>, loaded: String) -> String? {
        guard genericFallbacks.contains(loaded) else { return nil }
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The /proc/cpuinfo flags whose instructions each kernel family runs, for the families whose
    /// instructions a CPU of today may lack. OpenBLAS checks nothing when OPENBLAS_CORETYPE names a
    /// family: kernels the CPU cannot run stop the process with an illegal instruction at their
    /// first product. A job whose nodes differ (or a CORETYPE exported from another machine) meets
    /// that; the families not listed here (the SSE ones, AMD's FMA4 ones) are not checked.
    public static let requiredFlags: [String: [String]] = {
        let avx2 = ["avx", "avx2", "fma"]
        let avx512 = avx2 + ["avx512f", "avx512bw", "avx512dq", "avx512vl"]
        return [
            "Sandybridge": ["avx"], "Haswell": avx2, "Zen": avx2, "SkylakeX": avx512,
            "Cooperlake": avx512 + ["avx512_bf16"], "SapphireRapids": avx512 + ["avx512_bf16", "amx_bf16"],
        ]
    }()

    /// The flags `core`'s kernels need that a CPU with `flags` lacks (empty where it has them all,
    /// or the family is not in `requiredFlags`).
    public static func missingFlags(core: String, cpuFlags flags: Set<String>) -> [String] {
        (requiredFlags[core] ?? []).filter { !flags.contains($0) }
    }

    /// The checked families a CPU with `flags` runs, widest first.
    public static func runnableFamilies(cpuFlags flags: Set<String>) -> [String] {
        requiredFlags.filter { missingFlags(core: $0.key, cpuFlags: flags).isEmpty }
            .sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }.map(\.key)
    }

    /// The flags of the first processor in /proc/cpuinfo (empty where it cannot be read).
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }
}
