import Foundation
import PackagePlugin

/// Writes `BuildRevision.swift` for the target that uses it: the git revision the program is
/// built from, so that a binary can say which source it is (`dualpipe --version`) and a job can
/// refuse ranks that run different builds. A build command whose inputs are git's record of HEAD
/// (its reflog, which every commit, checkout and reset appends to), the index and every source
/// file of the package: a commit or an edit runs it again (a prebuild command would not: SwiftPM
/// runs those only when it reloads the package). It rewrites the file only when its text changes,
/// so an unchanged revision recompiles nothing.
@main
struct BuildRevision: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildRevision.swift")
        let sources = context.package.targets.compactMap { $0 as? SourceModuleTarget }.flatMap { $0.sourceFiles.map(\.url) }
        return [.buildCommand(
            displayName: "Reading the git revision of \(context.package.displayName)",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", Self.script, "build-revision", package.path, output.path],
            inputFiles: Self.gitRecords(package) + sources,
            outputFiles: [output])]
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

    /// $1: the package's folder; $2: the file to write. Outside a git checkout of
    /// this package (a source tarball, or git missing, or the folder inside another repository)
    /// the revision is unknown rather than someone else's.
    static let script = #"""
        set -u
        package=$1 out=$2
        export GIT_OPTIONAL_LOCKS=0
        revision="unknown revision (built outside a git checkout)"
        top=$(git -C "$package" rev-parse --show-toplevel 2>/dev/null) || top=
        if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$package" && pwd -P)" ]; then
            if described=$(git -C "$package" describe --tags --always --dirty --abbrev=12 2>/dev/null) \
               && date=$(git -C "$package" log -1 --format=%cs HEAD 2>/dev/null); then
                revision="$described (committed $date)"
            fi
        fi
        text="// Written by the BuildRevision plugin at build time (Plugins/BuildRevision); not in git.
        /// The source this program was built from: \`git describe --tags --always --dirty\` and the
        /// commit's date, or why it is unknown.
        let buildRevision = \"$revision\"
        "
        if [ "$(cat "$out" 2>/dev/null)" != "$(printf '%s' "$text")" ]; then
            printf '%s' "$text" > "$out.new" && mv "$out.new" "$out"
        fi
        """#
}
