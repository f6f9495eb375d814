import Model
@testable import Pipeline
import Testing

/// A stage's values copied out and back a range at a time, the ranges cutting through parameters
/// (`MirrorShardedUpdate` sends weights through windows this way).
@Suite struct ParameterValuesTests {
    /// Two MLP blocks of hidden 3: four matrices of 36 values each.
    func stage(seed: UInt64) -> MLPStage {
        MLPStage(index: 0, stages: 1, blocksPerStage: 2, configuration: MLPConfiguration(hidden: 3), seed: seed)
    }

    func flat(_ owner: some ParameterOwner) -> [Float] {
        var values: [Float] = []
        owner.visitParameters { values += $0.value.scalars }
        return values
    }

    @Test func piecesOfAnySizeCopyTheSequence() {
        let source = stage(seed: 1), values = ParameterValues(source), all = flat(source)
        #expect(values.count == all.count && all.count == 144)
        for size in [1, 7, 36, 50, 144, 200] {
            var copied = [Float](repeating: .nan, count: all.count)
            for start in stride(from: 0, to: all.count, by: size) {
                let range = start..<min(start + size, all.count)
                copied.withUnsafeMutableBufferPointer { values.copy(range, into: $0.baseAddress! + start) }
            }
            #expect(copied == all, "pieces of \(size)")
        }
    }

    @Test func assignedPiecesRebuildAnotherStage() {
        let source = stage(seed: 1), target = stage(seed: 2)
        let want = flat(source)
        #expect(flat(target) != want)
        let values = ParameterValues(target)
        for start in stride(from: 0, to: want.count, by: 50) {
            let range = start..<min(start + 50, want.count)
            want.withUnsafeBufferPointer { values.assign(range, from: $0.baseAddress! + start) }
        }
        #expect(flat(target) == want)
    }

    @Test func aRangeTouchesOnlyItsValues() {
        let target = stage(seed: 2), before = flat(target), values = ParameterValues(target)
        let ones = [Float](repeating: 1, count: 10)
        ones.withUnsafeBufferPointer { values.assign(30..<40, from: $0.baseAddress!) }
        let after = flat(target)
        #expect(after[30..<40].allSatisfy { $0 == 1 })
        #expect(Array(after[..<30]) == Array(before[..<30]) && Array(after[40...]) == Array(before[40...]))
    }
}
