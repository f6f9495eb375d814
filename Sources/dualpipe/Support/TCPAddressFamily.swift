#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPI

/// Open MPI 5.0's TCP transport (5.0.7 in Debian 13) prints `Unable to find reachable pairing
/// between local and remote interfaces` from every rank of a host that has IPv6 addresses beside
/// its IPv4 ones, in the middle of the ranks' own lines, and the job runs on regardless. Over IPv4
/// alone it pairs them, so a rank of Open MPI 5 turns IPv6 off for TCP before MPI starts, whoever
/// launched it (mpirun, srun, scripts/launch), unless the user set the parameter. Open MPI 4 pairs
/// both families without the warning and is left alone.
enum TCPAddressFamily {
    static let parameter = "btl_tcp_disable_family"
    static let variable = "OMPI_MCA_btl_tcp_disable_family"
    /// Open MPI's value for "no IPv6".
    static let withoutIPv6 = "6"

    /// Call before MPI starts: Open MPI reads its parameters when it initialises.
    static func configure() {
        guard let version = try? Environment.libraryVersion(),
              needsIPv4Only(libraryVersion: version, userSetting: MCASettings.userSetting(of: parameter)?.value) else { return }
        setenv(variable, withoutIPv6, 1)
    }

    /// Open MPI 5 with no setting of the user's: MPI_Get_library_version's text begins
    /// "Open MPI v5." there.
    static func needsIPv4Only(libraryVersion: String, userSetting: String?) -> Bool {
        userSetting == nil && libraryVersion.hasPrefix("Open MPI v5.")
    }
}
