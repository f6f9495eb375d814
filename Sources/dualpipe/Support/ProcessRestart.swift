#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPI

/// Settings that the loader and OpenBLAS read when the program starts (the OpenBLAS kernels,
/// glibc's huge-page tunable) are set in the environment and the program executes itself once
/// more, before any work and before MPI starts: one restart for all of them.
enum ProcessRestart {
    /// Set in the restarted process, so that it never restarts again. Set by hand (to anything)
    /// it turns the restart off.
    static let marker = "DUALPIPE_RESTARTED"

    /// `changes`: the environment variables to set, by name; nothing happens when it is empty.
    /// Returns only when there was nothing to do, or the exec failed (then the changes are undone).
    static func apply(_ changes: [String: String]) {
        guard !changes.isEmpty, ProcessInfo.processInfo.environment[marker] == nil else { return }
        let before = changes.keys.map { ($0, ProcessInfo.processInfo.environment[$0]) }
        for (name, value) in changes { setenv(name, value, 1) }
        setenv(marker, changes.keys.sorted().joined(separator: ","), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        let why = String(cString: strerror(errno))
        for (name, value) in before {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        unsetenv(marker)
        printError("warning: could not restart with \(changes.keys.sorted().joined(separator: ", ")) set (\(why)); running without")
    }
}
