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
    /// OpenBLAS loaded `loaded`: SkylakeX where the CPU runs its instructions (AVX-512 F, BW, DQ
    /// and VL among them), Haswell where it runs AVX2 and FMA, and nil when the loaded kernels are
    /// not a generic fallback or nothing better fits. The same table as the check of the kernels
    /// in use, so that the choice always passes it.
    public static func recommended(cpuFlags flags: Set<String>, loaded: String) -> String? {
        guard genericFallbacks.contains(loaded) else { return nil }
        return ["SkylakeX", "Haswell"].first { missingFlags(core: $0, cpuFlags: flags).isEmpty }
    }

    /// The /proc/cpuinfo flags whose instructions each kernel family of Debian 12's OpenBLAS 0.3.21
    /// runs, read from the library's own code (`objdump -d` of every function of the family):
    /// SSE3 (`pni`) and up for all but Opteron's; SSSE3 and SSE4.1 from Core2 and Penryn on; AMD's
    /// FMA4 in Bulldozer to Excavator, FMA3 beside it from Piledriver on; 3DNow! (`femms`) in
    /// Opteron's. OpenBLAS checks nothing when OPENBLAS_CORETYPE names a family: kernels the CPU
    /// cannot run stop the process with an illegal instruction at their first product (Opteron's on
    /// any CPU of today, Bulldozer's on an Intel one, SkylakeX's without AVX-512). A job whose nodes
    /// differ, or a CORETYPE exported from another machine, meets that. SapphireRapids, which
    /// 0.3.21 cannot load, guards newer builds. Flags a CPU runs without listing them (the first
    /// Zen executes FMA4) do not count: only what the CPU says it has.
    public static let requiredFlags: [String: [String]] = {
        let sse3 = ["pni"], ssse3 = sse3 + ["ssse3"], sse41 = ssse3 + ["sse4_1"], avx = sse41 + ["avx"]
        let fma4 = avx + ["fma4"], avx2 = avx + ["avx2", "fma"]
        let avx512 = avx2 + ["bmi2", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
        return [
            "Prescott": sse3, "Barcelona": sse3, "Opteron": sse3 + ["3dnow"], "Opteron_SSE3": sse3 + ["3dnow"],
            "Core2": ssse3, "Atom": ssse3, "Nano": ssse3, "Bobcat": ssse3, "Penryn": sse41, "Dunnington": sse41, "Nehalem": sse41,
            "Sandybridge": avx, "Bulldozer": fma4, "Piledriver": fma4 + ["fma"], "Steamroller": fma4 + ["fma"], "Excavator": fma4 + ["fma"],
            "Haswell": avx2, "Zen": avx2, "SkylakeX": avx512,
            "Cooperlake": avx512 + ["avx512_bf16"], "SapphireRapids": avx512 + ["avx512_bf16", "amx_bf16"],
        ]
    }()

    /// The flags `core`'s kernels need that a CPU with `flags` lacks (empty where it has them all,
    /// or the family is not in `requiredFlags`: a name newer than this table).
    public static func missingFlags(core: String, cpuFlags flags: Set<String>) -> [String] {
        (requiredFlags[core] ?? []).filter { !flags.contains($0) }
    }

    /// The checked families a CPU with `flags` runs, widest first (the most flags needed; by name
    /// among equals).
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
