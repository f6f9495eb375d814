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
        let environment = ProcessInfo.processInfo.environment
        let file = parameterFiles(environment).lazy.compactMap { file in value(of: parameter, in: file).map { (file, $0) } }.first
        if let set = environment[variable] {
            // Open MPI 5's launcher hands a parameter file's settings to the ranks as environment.
            if let (path, value) = file, value == set.trimmingCharacters(in: .whitespaces) { setBy = path } else { setBy = variable }
            return
        }
        if let file { setBy = file.0; return }
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

    /// The MCA parameter files Open MPI reads: the user's, then the installation's (Debian's path),
    /// or the list a user named instead.
    private static func parameterFiles(_ environment: [String: String]) -> [String] {
        if let named = environment["OMPI_MCA_mca_base_param_files"] { return named.split(separator: ":").map(String.init) }
        let home = environment["HOME"].map { ["\($0)/.openmpi/mca-params.conf"] } ?? []
        return home + ["/etc/openmpi/openmpi-mca-params.conf"]
    }

    /// The value of the file's last line `name = value` that is not a comment; nil without one.
    private static func value(of name: String, in file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let setting = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let parts = setting.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }.last
    }
}
