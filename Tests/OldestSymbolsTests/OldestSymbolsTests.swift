import COldestSymbols
import Foundation
import OldestSymbolsProbe
import Testing

/// The wrappers scripts/bundle sends the static runtime's calls to (Sources/COldestSymbols): each
/// must reach the old version of its symbol and behave as the current one does.
@Suite struct OldestSymbolsTests {
    @Test func hypotEqualsTheCurrentVersionBitForBit() {
        let pairs: [(Double, Double)] = [(3, 4), (0, 0), (-5, 12), (.leastNonzeroMagnitude * 3, .leastNonzeroMagnitude * 7), (1e300, 1e300), (.infinity, .nan), (0.1, 0.7), (-2.5, .leastNormalMagnitude)]
        for (x, y) in pairs {
            #expect(__wrap_hypot(x, y).bitPattern == hypot(x, y).bitPattern, "hypot(\(x), \(y))")
            let (a, b) = (Float(x), Float(y))
            #expect(__wrap_hypotf(a, b).bitPattern == hypotf(a, b).bitPattern, "hypotf(\(a), \(b))")
        }
    }

    @Test func fmodEqualsTheCurrentVersionBitForBit() {
        let pairs: [(Double, Double)] = [(7, 3), (-7, 3), (7, -3), (5.5, 0.25), (1e300, 3e-5), (0, 1), (-0.0, 2), (1, 0), (.infinity, 1), (2, .infinity), (.nan, 1), (.leastNonzeroMagnitude * 5, .leastNonzeroMagnitude * 2)]
        for (x, y) in pairs {
            #expect(__wrap_fmod(x, y).bitPattern == fmod(x, y).bitPattern, "fmod(\(x), \(y))")
            let (a, b) = (Float(x), Float(y))
            #expect(__wrap_fmodf(a, b).bitPattern == fmodf(a, b).bitPattern, "fmodf(\(a), \(b))")
        }
    }

    /// A wait that did not release the lock would leave the notifier blocked (the test would not
    /// end); one that returned without waiting, or without the lock, returns -1.
    @Test func conditionVariableWaitReleasesAndRetakesTheLock() {
        #expect(dualpipe_probe_condition_variable_wait() >= 1)
    }
}
