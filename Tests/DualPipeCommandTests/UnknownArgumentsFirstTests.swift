import ArgumentParser
import Foundation
import Testing
@testable import dualpipe

/// A misspelt flag is reported before a refusal of the other flags' values, which may be
/// judged without the value the misspelt flag meant to give.
@Suite struct UnknownArgumentsFirstTests {
    private func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try UnknownArgumentsFirst.parse(arguments)
            return nil
        } catch {
            return DualPipeCommand.message(for: error)
        }
    }

    @Test func aMisspeltFlagComesBeforeAnOutOfRangeValue() {
        #expect(refusal(["train", "--schedul", "zbv", "--steps", "0"]) == "Unknown option '--schedul'. Did you mean '--schedule'?")
        #expect(refusal(["simulate", "--ranks", "2", "-m", "3", "--cost-ff", "1"]) == "Unknown option '--cost-ff'. Did you mean '--cost-f'?")
    }

    @Test func withoutOneTheValueIsRefusedAsBefore() {
        #expect(refusal(["train", "--steps", "0"]) == "--steps must be at least 1, got 0")
        #expect(refusal(["simulate", "--ranks", "2", "-m", "3"])?.hasPrefix("-m/--micro-batches 3: DualPipe needs an even number") == true)
        #expect(refusal(["train", "--steps", "2"]) == nil)
        #expect(UnknownArgumentsFirst.validates)
    }

    /// A `validate()` without the guard would run in the second parse and could report its own
    /// refusal in place of the unknown argument: every one in the command's sources has it.
    @Test func everyValidateHasTheGuard() throws {
        let sources = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Sources/dualpipe").standardized
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        var found = 0
        for case let file as URL in files where file.pathExtension == "swift" {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where line.contains("func validate() throws {") {
                found += 1
                #expect(index + 1 < lines.count && lines[index + 1].contains("guard UnknownArgumentsFirst.validates else { return }"),
                        "\(file.lastPathComponent):\(index + 1): validate() does not start with the guard")
            }
        }
        #expect(found >= 14)
    }
}
