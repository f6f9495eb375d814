import Foundation
import PackagePlugin

/// Writes `BuildRevision.swift` for the target that uses it: the git revision the program is
/// built from, so that a binary can say which source it is (`dualpipe --version`) and a job can
/// refuse ranks that run different builds; and a fingerprint of the sources compiled, which tells
/// apart two builds git names alike. A build command running build-revision.sh beside this file,
/// whose inputs are git's record of HEAD (its reflog, which every commit, checkout and reset
/// appends to), the index, Package.swift and every source file under Sources/ (what the
/// fingerprint reads): a commit or an edit runs it again (a prebuild command would not: SwiftPM
/// runs those only when it reloads the package).
@main
struct BuildRevision: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let script = package.appending(path: "Plugins/BuildRevision/build-revision.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildRevision.swift")
        let sources = [package.appending(path: "Package.swift")] + Self.files(under: package.appending(path: "Sources"))
        return [.buildCommand(
            displayName: "Reading the git revision of \(context.package.displayName)",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: [script.path, package.path, output.path],
            inputFiles: [script] + Self.gitRecords(package) + sources,
            outputFiles: [output])]
    }

    /// How the names of the files the script's fingerprint reads end: SwiftPM's sources and headers.
    static let sourceSuffixes = [".swift", ".c", ".h", ".modulemap", ".cc", ".cpp", ".cxx", ".hpp", ".m", ".mm", ".s", ".S"]

    /// The source files under `folder`, hidden ones and those in hidden folders left out, as the
    /// script's fingerprint leaves them out.
    static func files(under folder: URL) -> [URL] {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        guard let walk = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles]) else { return [] }
        return walk.compactMap { $0 as? URL }
            .filter { url in sourceSuffixes.contains { url.lastPathComponent.hasSuffix($0) } }
            .filter { (try? $0.resourceValues(forKeys: Set(keys)).isRegularFile) == true }
    }

    /// The files git changes when HEAD moves or the index does, in the package's own git folder
    /// (`.git`, or where a worktree's `.git` file points); none outside a checkout.
    static func gitRecords(_ package: URL) -> [URL] {
        let dotGit = package.appending(path: ".git")
        var folder = dotGit
        if let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir: ") {
            let path = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            folder = path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appending(path: path)
        }
        return ["HEAD", "logs/HEAD", "index"].map { folder.appending(path: $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
