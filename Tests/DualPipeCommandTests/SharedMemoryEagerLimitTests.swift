import Testing
@testable import dualpipe

/// Where the user turned the shared-memory single copy off, one activation goes eagerly; with the
/// single copy, and where the user's settings say nothing of it, the limit stays Open MPI's.
@Suite struct SharedMemoryEagerLimitTests {
    @Test func theSettingsThatTurnTheSingleCopyOff() {
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: "none", smsc: nil))
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: "emulated", smsc: nil))
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: "^cma"))
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: "^xpmem, cma"))
    }

    @Test func theSettingsThatLeaveIt() {
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: nil))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: "cma", smsc: nil))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: "cma"))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: "^xpmem"))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(vaderMechanism: nil, smsc: "^cmax"))
    }

    @Test func eachOpenMPIHeedsOnlyItsOwnSetting() {
        let vaderOff = ["btl_vader_single_copy_mechanism": "none"], smscOff = ["smsc": "^cma"]
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(for: "btl_vader_eager_limit", userSetting: { vaderOff[$0] }))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(for: "btl_sm_eager_limit", userSetting: { vaderOff[$0] }))
        #expect(SharedMemoryEagerLimit.singleCopyTurnedOff(for: "btl_sm_eager_limit", userSetting: { smscOff[$0] }))
        #expect(!SharedMemoryEagerLimit.singleCopyTurnedOff(for: "btl_vader_eager_limit", userSetting: { smscOff[$0] }))
    }

    @Test func theLimitHoldsOneActivationAndItsHeader() {
        #expect(SharedMemoryEagerLimit.limit(toFit: 512 * 128 * 4) == 512 * 128 * 4 + 4096)
        #expect(SharedMemoryEagerLimit.limit(toFit: 0) == 4096)
    }

    @Test func eachOpenMPINamesItsOwnTransport() {
        #expect(SharedMemoryEagerLimit.parameter(libraryVersion: "Open MPI v4.1.4, package: Debian OpenMPI") == "btl_vader_eager_limit")
        #expect(SharedMemoryEagerLimit.parameter(libraryVersion: "Open MPI v5.0.7, package: Debian OpenMPI") == "btl_sm_eager_limit")
    }
}
