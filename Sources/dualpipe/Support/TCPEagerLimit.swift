#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPI

/// Open MPI sends a TCP message above its eager limit (64 KiB by default) by rendezvous: the
/// sender announces it, the receiver answers when it next calls into MPI, and only then do the
/// bytes move. Across a link with a round trip of milliseconds every activation then pays an
/// extra round trip, and more while a rank busy in a product has not polled. A training run
/// therefore lets one activation go eagerly: it raises the limit before MPI starts, unless the
/// user set it (in the environment, with `mpirun --mca`, or in an MCA parameter file). Only
/// messages between nodes use TCP; ranks on one node talk through shared memory either way.
enum TCPEagerLimit {
    static let parameter = "btl_tcp_eager_limit"
    static let variable = "OMPI_MCA_btl_tcp_eager_limit"
    /// Open MPI's own default, which the limit never goes below.
    static let openMPIDefault = 65536
    /// Room for the headers Open MPI puts before the bytes, which its limit counts.
    static let headerRoom = 4096

    /// Who decided the limit in this process, for `description`.
    nonisolated(unsafe) private static var raisedTo: Int?
    nonisolated(unsafe) private static var setBy: String?

    /// Lets a message of `messageBytes` go eagerly over TCP, unless the limit is set elsewhere.
    /// Call before MPI starts: Open MPI reads its parameters when it initialises.
    static func raise(toFit messageBytes: Int) {
        if let setting = MCASettings.userSetting(of: parameter) {
            setBy = setting.source
            return
        }
        let limit = max(openMPIDefault, messageBytes + headerRoom)
        setenv(variable, String(limit), 1)
        raisedTo = limit
    }

    /// For a run's first line: the limit Open MPI runs with, read back from it, and who chose it.
    /// Call after MPI starts.
    static var description: String {
        let value: Int?
        do { value = try ControlVariable.integer(parameter) } catch { return "TCP eager limit unknown (\(error))" }
        guard let value else { return "TCP eager limit unknown (Open MPI's TCP transport not loaded)" }
        let why = if raisedTo == value { "one activation" } else if let setBy { setBy } else { "Open MPI's default" }
        return "TCP eager limit \(value) bytes (\(why))"
    }
}
