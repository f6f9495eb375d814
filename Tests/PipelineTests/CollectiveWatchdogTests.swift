import Pipeline
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CollectiveWatchdogTests {
    /// A wait that outlasts the timeout is reported once, naming it. The body waits for the report
    /// itself (up to a minute), so a slow machine makes the test slower, never wrong.
    @Test func aWaitPastTheTimeoutIsNamed() throws {
        let reports = Mutex<[String]>([])
        let watchdog = try CollectiveWatchdog(timeout: 0.05) { wait in reports.withLock { $0.append(wait) } }
        watchdog.guarding("the gradient sums of step 7") {
            for _ in 0..<6000 where reports.withLock({ $0.isEmpty }) { usleep(10_000) }
        }
        let seen = reports.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.hasPrefix("waited ") == true)
        #expect(seen.first?.hasSuffix(" s for the gradient sums of step 7 (--comm-timeout)") == true)
    }

    /// Waits that end in time, however many, report nothing; nor does the time between them.
    @Test func waitsThatEndInTimeAreNotReported() throws {
        let reports = Mutex<[String]>([])
        do {
            let watchdog = try CollectiveWatchdog(timeout: 60) { wait in reports.withLock { $0.append(wait) } }
            for step in 0..<1000 { watchdog.guarding("the losses of step \(step)") {} }
        }
        #expect(reports.withLock { $0 }.isEmpty)
    }
}
