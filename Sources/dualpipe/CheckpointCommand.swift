import ArgumentParser
import Foundation
import MPI
import Pipeline

/// `dualpipe checkpoint DIR`: what a `--checkpoint-dir` holds and what it resumes on, read from
/// its manifests without MPI; with `--verify`, every shard read and checked as `--resume` would.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "List the checkpoints in a --checkpoint-dir, what they resume on, and (--verify) whether every shard is intact.",
        discussion: """
            One line per complete checkpoint, the newest (the one --resume takes) first: its step, the \
            schedule and PP x EP grid it was written on, its micro-batches a step, its shards and size, \
            and the build that wrote it (`dualpipe --version`; - for checkpoints of older builds); \
            then the folders without a manifest (saves cut short), and what a resume must repeat: the \
            micro-batches a step and the model, optimizer and seed flags (any schedule, PP, V and EP \
            fit). Exit status 1 when --verify finds a shard missing or damaged.
            """)

    @Argument(help: "The folder a run's --checkpoint-dir named.")
    var directory: String

    @Flag(help: "Read every shard of every complete checkpoint, checking its records and checksum against the manifest's, one shard at a time.")
    var verify = false

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) else {
            throw ValidationError("'\(directory)' does not exist: name the folder a run's --checkpoint-dir wrote")
        }
        guard isFolder.boolValue else { throw ValidationError("'\(directory)' is not a folder: name the folder a run's --checkpoint-dir wrote") }
    }

    func run() throws {
        let found = Checkpointer.list(directory)
        guard !found.complete.isEmpty || !found.incomplete.isEmpty else {
            throw ValidationError("'\(directory)' holds no checkpoint (no step-NNNNNN folder)")
        }
        var rows = [["step", "written on", "micro-batches a step", "shards", "size"] + (verify ? ["verified"] : []) + ["build"]]
        var manifests: [CheckpointManifest] = [], damaged: [String] = []
        for (step, path) in found.complete {
            let manifest: CheckpointManifest
            do { manifest = try Checkpointer.manifest(at: path) } catch {
                damaged.append("\(error)")
                rows.append(["\(step)", "(unreadable manifest)", "", "", ""] + (verify ? ["no"] : []) + [""])
                continue
            }
            manifests.append(manifest)
            var row = ["\(step)", "\(manifest.layoutTitle)", "\(manifest.microBatches * manifest.expertParallel)",
                       "\(manifest.pipelineRanks * manifest.expertParallel)", Self.megabytes(Checkpointer.size(of: path))]
            if verify {
                let verification = Checkpointer.verify(path, manifest: manifest)
                damaged += verification.problems
                row.append(verification.problems.isEmpty ? "intact" : "\(verification.problems.count) of \(verification.shards) damaged")
            }
            rows.append(row + [manifest.build ?? "-"])
        }
        print("\(directory): \(found.complete.count) checkpoint(s)" + (found.complete.isEmpty ? "" : "; --resume continues from the newest, step \(found.complete[0].step)"))
        if found.complete.count > 0 { print(renderTable(rows, textColumns: 2, textLast: true), terminator: "") }
        if !found.incomplete.isEmpty {
            print("without manifest.json (saves cut short, not checkpoints): \(found.incomplete.map { ($0.path as NSString).lastPathComponent }.joined(separator: ", "))")
        }
        if let newest = manifests.first {
            print("resume with \(newest.microBatches * newest.expertParallel) micro-batches a step (--micro-batches x EP) on any schedule, PP, V and EP "
                  + "(bit for bit on \(newest.layoutTitle)), and these flags:")
            print("  " + newest.resumeFlags.joined(separator: " "))
        }
        for problem in damaged { printError(problem) }
        if !damaged.isEmpty { throw ExitCode.failure }
    }

    static func megabytes(_ bytes: Int) -> String { CheckpointSpace.decimal(Double(bytes)) }
}
