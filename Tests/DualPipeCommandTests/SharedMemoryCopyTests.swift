@testable import dualpipe
import Testing

/// Open MPI 5's single copy, told from its sm transport's flags and the smsc components opened
/// (values read back from Open MPI 5.0.7 on Debian 13).
@Suite struct SharedMemoryCopyTests {
    @Test func getMeansTheOpenedComponent() {
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 15, opened: ["cma"]) == "cma")
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 15, opened: ["xpmem"]) == "xpmem")
    }

    @Test func noGetMeansNoSingleCopy() {
        // OMPI_MCA_smsc=^cma: send and send-in-place alone, and cma not opened.
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 9, opened: []) == "none")
        // A component opened whose selection failed (a container without ptrace rights) gives no get.
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 9, opened: ["cma"]) == "none")
    }

    @Test func getThroughComponentsItCannotTellApart() {
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 15, opened: ["cma", "xpmem"]) == "smsc")
        #expect(SharedMemoryCopy.openMPI5Mechanism(flags: 15, opened: []) == "smsc")
    }
}
