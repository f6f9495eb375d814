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

    /// The flags of the first processor in /proc/cpuinfo (empty where it cannot be read).
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }
}
