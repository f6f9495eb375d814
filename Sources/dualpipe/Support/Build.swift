import ArgumentParser
import MPI

/// Which source this program was built from: `buildRevision` and `buildSources`, written at build
/// time by Plugins/BuildRevision (`git describe --tags --always --dirty` and the commit's date; a
/// SHA-256 of Package.swift and Sources/).
enum Build {
    /// "cab0519b4299 (committed 2026-12-04), sources 3126a1c2ecbc", or why the revision is unknown
    /// and the sources' fingerprint: what `dualpipe --version` prints and checkpoints record.
    static let revision = "\(buildRevision), sources \(buildSources)"

    /// The `git describe` part alone, for `dualpipe env`'s table: "cab0519b4299-dirty", or
    /// "unknown" outside a git checkout.
    static var describe: String {
        guard let date = revision.range(of: " (committed ") else { return "unknown" }
        return String(revision[..<date.lowerBound])
    }

    /// Whether two `revision` texts (this program's, another rank's, a checkpoint's) name one
    /// program. The sources decide where both texts carry them: git names two edits of one commit
    /// alike (`-dirty`) and one commit differently (a tag fetched on one node only, a checkout
    /// beside a tarball of it). Without them, the whole text.
    static func same(_ a: String, _ b: String) -> Bool {
        guard let sourcesA = sources(of: a), let sourcesB = sources(of: b) else { return a == b }
        return sourcesA == sourcesB
    }

    /// The fingerprint a `revision` text ends with; nil where it has none or it is unknown.
    static func sources(of text: String) -> String? {
        guard let mark = text.range(of: ", sources ", options: .backwards) else { return nil }
        let fingerprint = text[mark.upperBound...]
        return fingerprint.count == 12 && fingerprint.allSatisfy(\.isHexDigit) ? String(fingerprint) : nil
    }

    /// Refuses a job whose ranks run different builds: a node with a stale copy of the binary (a
    /// local disk that missed an update, an older bundle unpacked there, an edit rebuilt on one
    /// node only) would otherwise send messages its peers do not expect, and hang or train
    /// something else. Builds of the same sources pass, from any folder, whatever git calls them.
    /// Collective over the world.
    static func requireSameBuild(_ environment: Environment) throws {
        guard let mismatch = try mismatch(environment) else { return }
        throw ValidationError(mismatch + "; every rank of a job must run the same build: install one binary where every node "
            + "reads it, or one build of the same sources on each node")
    }

    /// nil where every rank runs this build; else what differs: rank 0's build and node, the first
    /// rank that differs with its own, and how many differ. Collective over the world.
    static func mismatch(_ environment: Environment) throws -> String? {
        let world = environment.world
        let revisions = try world.allgatherv(Array(revision.utf8)).map { String(decoding: $0, as: UTF8.self) }
        let differing = revisions.indices.filter { !same(revisions[$0], revisions[0]) }
        // Every rank sees the same revisions, so all of them return here, or all gather the names.
        guard let first = differing.first else { return nil }
        let nodes = try world.allgatherv(Array(try environment.processorName.utf8)).map { String(decoding: $0, as: UTF8.self) }
        return "the ranks run different builds of dualpipe: rank 0 on \(nodes[0]) runs \(revisions[0]); "
            + "rank \(first) on \(nodes[first]) runs \(revisions[first]) (\(differing.count) of \(world.size) ranks differ from rank 0)"
    }
}
