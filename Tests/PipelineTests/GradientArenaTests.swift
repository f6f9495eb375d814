import Model
import Tensor
@testable import Pipeline
import Testing

/// A partner's gradients added straight into a stage's own, in pieces that cut through
/// parameters (`MirrorShardedUpdate` receives them through windows this way), against the
/// gather, add and scatter they replace.
@Suite struct GradientArenaTests {
    /// Two MLP blocks of hidden 3: four matrices of 36 values each, gradients drawn from `seed`.
    func stage(seed: UInt64) -> MLPStage {
        let stage = MLPStage(index: 0, stages: 1, blocksPerStage: 2, configuration: MLPConfiguration(hidden: 3), seed: 1)
        var rng = SplitMix64(seed: seed)
        stage.visitParameters { p in
            for i in p.gradient.scalars.indices { p.gradient.scalars[i] = Float(rng.next() % 1000) / 7 - 71 }
        }
        return stage
    }

    func gradients(_ owner: some ParameterOwner) -> [Float] {
        var all: [Float] = []
        owner.visitParameters { all += $0.gradient.scalars }
        return all
    }

    @Test func piecesAddedInPlaceGiveTheGatheredSum() {
        let partner = gradients(stage(seed: 2))
        let gathered = GradientArena(stages: [stage(seed: 1)]) { _ in true }
        gathered.gather()
        for i in partner.indices { gathered.buffer.pointer[i] += partner[i] }
        gathered.scatter()
        let want = gradients(gathered.stages[0])
        #expect(want.count == 144 && want != gradients(stage(seed: 1)))
        for size in [1, 7, 36, 50, 144, 200] {
            let owned = stage(seed: 1), arena = GradientArena(stages: [owned]) { _ in true }
            #expect(arena.addsInPlace)
            for start in stride(from: 0, to: partner.count, by: size) {
                let piece = start..<min(start + size, partner.count)
                partner.withUnsafeBufferPointer { arena.add(piece, from: $0.baseAddress! + start) }
            }
            #expect(gradients(owned) == want, "pieces of \(size)")
        }
    }

    @Test func aPieceTouchesOnlyItsGradients() {
        let owned = stage(seed: 1), before = gradients(owned)
        let arena = GradientArena(stages: [owned]) { _ in true }
        let ones = [Float](repeating: 1, count: 10)
        ones.withUnsafeBufferPointer { arena.add(30..<40, from: $0.baseAddress!) }
        let after = gradients(owned)
        #expect((30..<40).allSatisfy { after[$0] == before[$0] + 1 })
        #expect(Array(after[..<30]) == Array(before[..<30]) && Array(after[40...]) == Array(before[40...]))
    }
}
