import Foundation

/// Where a user may have set one of Open MPI's MCA parameters before MPI starts: the environment
/// (`OMPI_MCA_<name>`, which `mpirun --mca` also sets for the ranks) or a parameter file. A setting
/// this program makes for its own reasons must give way to any of them.
enum MCASettings {
    /// The user's value of `name` and where it came from (the variable or the file's path); nil if
    /// unset. Open MPI 5's launcher hands a parameter file's settings to the ranks as environment,
    /// so a variable equal to a file's value is credited to the file.
    static func userSetting(of name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> (value: String, source: String)? {
        let variable = "OMPI_MCA_\(name)"
        let file = parameterFiles(environment).lazy.compactMap { file in value(of: name, in: file).map { (file, $0) } }.first
        if let set = environment[variable] {
            let trimmed = set.trimmingCharacters(in: .whitespaces)
            if let (path, value) = file, value == trimmed { return (trimmed, path) }
            return (trimmed, variable)
        }
        return file.map { ($0.1, $0.0) }
    }

    /// The MCA parameter files Open MPI reads: the user's, then the installation's (Debian's path),
    /// or the list a user named instead.
    static func parameterFiles(_ environment: [String: String]) -> [String] {
        if let named = environment["OMPI_MCA_mca_base_param_files"] { return named.split(separator: ":").map(String.init) }
        let home = environment["HOME"].map { ["\($0)/.openmpi/mca-params.conf"] } ?? []
        return home + ["/etc/openmpi/openmpi-mca-params.conf"]
    }

    /// The value of the file's last line `name = value` that is not a comment; nil without one.
    static func value(of name: String, in file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return value(of: name, inText: text)
    }

    static func value(of name: String, inText text: String) -> String? {
        text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let setting = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let parts = setting.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }.last
    }
}
