import Testing

@testable import EPLB

/// The slot layout is shape arithmetic alone, so it is checked once here rather than as a property of a
/// policy: ranks own consecutive runs of slots, replicas/ranks each when it divides, floor or ceiling
/// otherwise, and `slotCount(ofRank:)` agrees with `rankOfSlot()`.
@Test(arguments: (dividingShapes + nonDividingShapes).map(\.shape))
func ranksShareTheSlotsEvenly(shape: ClusterShape) {
    let rankOfSlot = shape.rankOfSlot()
    var perRank = [Int](repeating: 0, count: shape.ranks)
    for rank in rankOfSlot { perRank[rank] += 1 }
    let floor = shape.replicas / shape.ranks
    if shape.replicas % shape.ranks == 0 {
        #expect(perRank == Array(repeating: floor, count: shape.ranks))
    } else {
        #expect(perRank.allSatisfy { $0 == floor || $0 == floor + 1 })
    }
    #expect(perRank == (0..<shape.ranks).map { shape.slotCount(ofRank: $0) })
    #expect(zip(rankOfSlot, rankOfSlot.dropFirst()).allSatisfy { $0 <= $1 })
}
