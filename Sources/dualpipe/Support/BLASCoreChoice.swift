import Foundation
import MPI
import Tensor

/// Sees to the right OpenBLAS kernels before any work (and before MPI starts): where OpenBLAS
/// fell back to generic kernels on a CPU with AVX2 or AVX-512, the program sets
/// OPENBLAS_CORETYPE and executes itself again (`ProcessRestart`), so OpenBLAS loads with the
/// right ones. A user's own OPENBLAS_CORETYPE is left alone.
enum BLASCoreChoice {
    /// Set for the restarted process: what was loaded before and what was chosen instead
    /// ("Prescott -> SkylakeX"). Set by hand (to anything) it turns the choice off.
    static let marker = "DUALPIPE_BLAS_CORE_CHOICE"

    /// This CPU's flags, as /proc/cpuinfo lists them (empty where it cannot be read): what the
    /// choice goes by, and what the kernels in use are checked against (`ComputeSetup`).
    static let cpuFlags = BLASCore.cpuFlags(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")

    /// The environment the choice needs (empty: the loaded kernels are right, or the user chose).
    static var changes: [String: String] {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment[marker] == nil else { return [:] }
        let loaded = BLAS.coreName
        guard let core = BLASCore.recommended(cpuFlags: cpuFlags, loaded: loaded) else { return [:] }
        return ["OPENBLAS_CORETYPE": core, marker: "\(loaded) -> \(core)"]
    }

    /// How the kernels in use were chosen, for the first line of a run.
    static var description: String {
        let environment = ProcessInfo.processInfo.environment
        if let choice = environment[marker], choice.contains(" -> ") { return "OpenBLAS \(BLAS.coreName) kernels (chosen for this CPU; OpenBLAS alone picked \(choice.split(separator: " ").first ?? "?"))" }
        if environment["OPENBLAS_CORETYPE"] != nil { return "OpenBLAS \(BLAS.coreName) kernels (OPENBLAS_CORETYPE)" }
        return "OpenBLAS \(BLAS.coreName) kernels"
    }
}
