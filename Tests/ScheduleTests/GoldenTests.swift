import Foundation
import Testing
@testable import Schedule

/// The golden programs were written by an independent transcription of the reference loops
/// (deepseek-ai/DualPipe `step()` for DualPipe and DualPipeV), in the CSV form; ZB-V's and
/// Interleaved 1F1B's and Interleaved ZB's by PyTorch's own `ScheduleZBVZeroBubble`,
/// `ScheduleInterleaved1F1B` and `ScheduleInterleavedZeroBubble`
/// (`_calculate_single_rank_operations`, torch 2.13), Looped BFS's by `ScheduleLoopedBFS`'s (torch
/// 2.15, its padding left out), their actions written out in the same form; a `-v<V>` suffix is a
/// looped kind with V stages a rank (PyTorch's `n_local_stages`).
@Suite struct GoldenTests {
    static let files: [String] = {
        guard let folder = Bundle.module.url(forResource: "Golden", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter { $0.hasSuffix(".csv") }.sorted()
    }()

    @Test func goldensArePresent() {
        #expect(Self.files.filter { $0.hasPrefix("dualpipe-") }.count >= 4)
        #expect(Self.files.filter { $0.hasPrefix("dualpipev-") }.count >= 4)
        #expect(Self.files.filter { $0.hasPrefix("zbv-") }.count >= 4)
        #expect(Self.files.filter { $0.hasPrefix("interleaved1f1b-") }.count >= 6)
        #expect(Self.files.filter { $0.hasPrefix("interleaved1f1b-") && $0.contains("-v") }.count >= 3)
        #expect(Self.files.filter { $0.hasPrefix("interleavedzb-") }.count >= 4)
        #expect(Self.files.filter { $0.hasPrefix("loopedbfs-") }.count >= 6)
        #expect(Self.files.filter { $0.hasPrefix("loopedbfs-") && $0.contains("-v") }.count >= 3)
    }

    @Test(arguments: files)
    func generatorMatchesGolden(_ name: String) throws {
        // name: <kind>-<N>x<M>[-v<V>].csv
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "-")
        try #require(parts.count == 2 || (parts.count == 3 && parts[2].hasPrefix("v")))
        let kind = try ScheduleKind.named(String(parts[0]))
        let sizes = parts[1].split(separator: "x").compactMap { Int($0) }
        try #require(sizes.count == 2)
        var v: Int?
        if parts.count == 3 {
            guard let number = Int(parts[2].dropFirst()) else { Issue.record("\(name): no V after -v"); return }
            v = number
        }
        let url = try #require(Bundle.module.url(forResource: "Golden/" + stem, withExtension: "csv"))
        let golden = try Schedule.program(csv: String(contentsOf: url, encoding: .utf8))
        let generated = try Schedule.generate(kind: kind, ranks: sizes[0], microBatches: sizes[1], stagesPerRank: v)
        #expect(golden.count == sizes[0])
        for rank in golden.indices {
            #expect(generated.program[rank] == golden[rank], "rank \(rank) of \(name)")
        }
    }
}
