import Testing
@testable import dualpipe

/// The warning for ranks that run fewer OpenBLAS threads than OPENBLAS_NUM_THREADS asks, where
/// their launcher bound them to fewer CPUs.
@Suite struct BLASThreadBindingTests {
    typealias Rank = BLASThreadBinding.Rank

    @Test func noWarningWhereEveryRankRunsWhatItAskedFor() {
        #expect(BLASThreadBinding.warning([Rank(requested: nil, threads: 1, cpus: 1, online: 2), Rank(requested: 2, threads: 2, cpus: 16, online: 16)]) == nil)
        #expect(BLASThreadBinding.warning([Rank(requested: 1, threads: 1, cpus: 1, online: 2)]) == nil)
        #expect(BLASThreadBinding.warning([]) == nil)
    }

    @Test func ranksBoundToFewerCPUsAreNamedWithTheFix() throws {
        let bound = Rank(requested: 2, threads: 1, cpus: 1, online: 2)
        let ranks = [bound, bound, Rank(requested: 2, threads: 2, cpus: 4, online: 4), bound]
        let warning = try #require(BLASThreadBinding.warning(ranks))
        #expect(warning.hasPrefix("warning: ranks 0-1, 3 each run 1 OpenBLAS thread where OPENBLAS_NUM_THREADS=2, bound to 1 CPU "), "\(warning)")
        #expect(warning.contains("mpirun --map-by slot:PE=2, srun --cpus-per-task=2"), "\(warning)")
        #expect(warning.contains("--bind-to none"), "\(warning)")
    }

    @Test func differentBindingsAreGroupedAndTheLargestRequestSetsTheCores() throws {
        let ranks = [Rank(requested: 4, threads: 2, cpus: 2, online: 16), Rank(requested: 8, threads: 1, cpus: 1, online: 16), Rank(requested: 1, threads: 1, cpus: 1, online: 16)]
        let warning = try #require(BLASThreadBinding.warning(ranks))
        #expect(warning.contains("rank 0 runs 2 OpenBLAS threads where OPENBLAS_NUM_THREADS=4, bound to 2 CPUs; rank 1 runs 1 OpenBLAS thread where OPENBLAS_NUM_THREADS=8, bound to 1 CPU "), "\(warning)")
        #expect(warning.contains("PE=8"), "\(warning)")
        #expect(!warning.contains("rank 2"), "\(warning)")
    }

    @Test func aCapThatIsNotTheBindingIsReportedWithoutTheBindingsFix() throws {
        // OpenBLAS's own MAX_THREADS, say: the rank may run on more CPUs than it asked for.
        let warning = try #require(BLASThreadBinding.warning([Rank(requested: 100, threads: 64, cpus: 128, online: 128), Rank(requested: 100, threads: 64, cpus: nil, online: nil)]))
        #expect(warning == "warning: rank 0 runs 64 OpenBLAS threads where OPENBLAS_NUM_THREADS=100; rank 1 runs 64 OpenBLAS threads where OPENBLAS_NUM_THREADS=100", "\(warning)")
    }

    @Test func aNodeWithFewerCPUsThanThreadsIsNotCalledBound() throws {
        let warning = try #require(BLASThreadBinding.warning([Rank(requested: 4, threads: 2, cpus: 2, online: 2)]))
        #expect(warning == "warning: rank 0 runs 2 OpenBLAS threads where OPENBLAS_NUM_THREADS=4 on its node's 2 CPUs", "\(warning)")
    }

    @Test func theRequestIsReadFromTheEnvironment() {
        #expect(BLASThreadBinding.current(environment: ["OPENBLAS_NUM_THREADS": "4"]).requested == 4)
        #expect(BLASThreadBinding.current(environment: [:]).requested == nil)
        #expect(BLASThreadBinding.current(environment: ["OPENBLAS_NUM_THREADS": "lots"]).requested == nil)
        #expect(BLASThreadBinding.current(environment: ["OPENBLAS_NUM_THREADS": "0"]).requested == nil)
    }

    @Test func rankListsCollapseIntoRuns() {
        #expect(BLASThreadBinding.spans([0, 1, 2, 5]) == "0-2, 5")
        #expect(BLASThreadBinding.spans([3]) == "3")
        #expect(BLASThreadBinding.spans([0, 2, 4, 5]) == "0, 2, 4-5")
    }

    @Test func thisProcessCanRunOnAtLeastOneCPU() throws {
        let cpus = try #require(BLASThreadBinding.allowedCPUs())
        #expect(cpus >= 1)
    }
}
