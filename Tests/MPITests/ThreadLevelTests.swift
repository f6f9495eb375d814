import Testing
@testable import MPI

@Suite struct ThreadLevelTests {
    @Test func levelsAreOrderedByWhatTheyAllow() {
        #expect(ThreadLevel.single < .funneled)
        #expect(ThreadLevel.funneled < .serialized)
        #expect(ThreadLevel.serialized < .multiple)
    }

    @Test(arguments: ThreadLevel.allCases)
    func mpiValuesRoundTrip(level: ThreadLevel) {
        #expect(ThreadLevel(mpiValue: level.mpiValue) == level)
    }

    @Test func mpiValuesAreDistinct() {
        #expect(Set(ThreadLevel.allCases.map(\.mpiValue)).count == ThreadLevel.allCases.count)
    }
}
