import Foundation
@testable import Pipeline
import Testing

/// The checkpoint's folder is made like `mkdir -p`, and a failure is said in the system's words,
/// naming the part of the path that stopped it (never a Foundation error code).
@Suite struct CheckpointFolderTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dualpipe-folder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path

    @Test func makesEveryMissingParentAndAcceptsAnExistingFolder() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/run/step-000003"
        try Checkpointer.makeFolder(folder)
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue)
        try Checkpointer.makeFolder(folder)
        try Checkpointer.makeFolder(root + "/run/")
    }

    @Test func aFileInThePathIsNamed() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Checkpointer.makeFolder(root)
        #expect(FileManager.default.createFile(atPath: root + "/ckpt", contents: Data()))
        let error = #expect(throws: PipelineError.self) { try Checkpointer.makeFolder(root + "/ckpt/step-000001") }
        #expect(error?.description == "cannot create checkpoint folder \(root)/ckpt/step-000001: \(root)/ckpt is not a folder")
    }

    @Test func aFolderThatTakesNoNewOneGivesTheSystemsReason() throws {
        // /proc takes no new entry, even from root.
        let error = #expect(throws: PipelineError.self) { try Checkpointer.makeFolder("/proc/dualpipe-no-such/step-000001") }
        #expect(error?.description == "cannot create checkpoint folder /proc/dualpipe-no-such/step-000001: /proc/dualpipe-no-such: No such file or directory")
    }
}
