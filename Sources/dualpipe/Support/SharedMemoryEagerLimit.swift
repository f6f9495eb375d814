#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPI

/// Without the shared-memory single copy (`SharedMemoryCopy`), a message between ranks of a node
/// above the transport's eager limit (4 KiB) goes by rendezvous: the first fragment, the
/// receiver's answer, and the rest only when the sender next calls into MPI, so a rank busy in a
/// product holds back what its neighbour waits for. Sent eagerly, the whole message is copied into
/// shared memory as it is posted. So where the user's settings turn the single copy off (a
/// container without ptrace rights is the usual reason), a run raises the eager limit to one
/// activation before MPI starts, unless the user set the limit too. With the single copy the
/// limit stays: one copy by the receiver beats two through shared memory.
///
/// At PP 2 on 2 vCPUs of a Xeon without the single copy, `bench schedules` measured MPI waits of
/// 140 to 222 ms over its ten rows at the default limit and 83 to 186 with one activation eager,
/// and the simulator's step 0.87 to 1.00 of the measured one against 0.95 to 1.00
/// (docs/performance.md).
enum SharedMemoryEagerLimit {
    /// Open MPI 4's transport is vader, Open MPI 5's sm; each reads its own name.
    static func parameter(libraryVersion: String) -> String {
        libraryVersion.hasPrefix("Open MPI v4.") || libraryVersion.hasPrefix("Open MPI v3.") ? "btl_vader_eager_limit" : "btl_sm_eager_limit"
    }
    /// Open MPI 4's mechanisms that move a large message only with its sender's progress.
    static let withoutKernelCopy = ["none", "emulated"]

    /// What `raise` did in this process, for `description`.
    nonisolated(unsafe) private static var raisedTo: Int?
    nonisolated(unsafe) private static var parameterName: String?

    /// Whether the user's settings leave the shared-memory transport without a kernel copy: Open
    /// MPI 4's mechanism `none` (or `emulated`, whose gets the sender's progress answers too), or
    /// Open MPI 5's smsc framework told to leave out cma (`^cma`, the only component Debian builds).
    static func singleCopyTurnedOff(vaderMechanism: String?, smsc: String?) -> Bool {
        if let vaderMechanism, withoutKernelCopy.contains(vaderMechanism.lowercased()) { return true }
        if let smsc, smsc.hasPrefix("^") {
            return smsc.dropFirst().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "cma" }
        }
        return false
    }

    /// The same for the transport whose eager limit is `parameter`, from the user's MCA settings:
    /// each Open MPI reads only its own (Open MPI 5 ignores vader's mechanism, Open MPI 4 has no smsc).
    static func singleCopyTurnedOff(for parameter: String, userSetting: (String) -> String?) -> Bool {
        parameter.hasPrefix("btl_vader")
            ? singleCopyTurnedOff(vaderMechanism: userSetting(SharedMemoryCopy.parameter), smsc: nil)
            : singleCopyTurnedOff(vaderMechanism: nil, smsc: userSetting("smsc"))
    }

    /// The limit that lets a message of `messageBytes` go eagerly: its bytes and room for its
    /// header (never below Open MPI's own 4 KiB).
    static func limit(toFit messageBytes: Int) -> Int {
        max(0, messageBytes) + TCPEagerLimit.headerRoom
    }

    /// Lets a message of `messageBytes` go eagerly through shared memory where the user turned the
    /// single copy off and left the limit alone. Call before MPI starts.
    static func raise(toFit messageBytes: Int) {
        guard let version = try? Environment.libraryVersion(), version.hasPrefix("Open MPI") else { return }
        let name = parameter(libraryVersion: version)
        parameterName = name
        guard singleCopyTurnedOff(for: name, userSetting: { MCASettings.userSetting(of: $0)?.value }) else { return }
        guard MCASettings.userSetting(of: name) == nil else { return }
        let value = limit(toFit: messageBytes)
        setenv("OMPI_MCA_\(name)", String(value), 1)
        raisedTo = value
    }

    /// For the first line where the single copy is off: the limit Open MPI runs with, read back
    /// from it, and who chose it. Call after MPI starts.
    static var description: String {
        guard let name = parameterName, let value = try? ControlVariable.integer(name) else {
            return "large messages between ranks of a node move only while their sender is in MPI"
        }
        if raisedTo == value { return "eager limit \(value) bytes, one activation: a message leaves whole when sent" }
        if let setting = MCASettings.userSetting(of: name) { return "eager limit \(value) bytes from \(setting.source)" }
        return "large messages between ranks of a node move only while their sender is in MPI; eager limit \(value) bytes, OMPI_MCA_\(name) raises it"
    }
}
