// mpi-checks: MPI behaviour under real mpirun. scripts/test launches it at 1, 2, 4 and 8 ranks.
//
//   mpi-checks [--expect-nodes N]          run every check; exit 0 only if all pass
//   mpi-checks --fail-rank R [--crash]     rank R fails (throws, or crashes with --crash) while the
//                                          others wait for it: the job must end promptly, not hang
import MPI
import Tensor

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())

func value(after flag: String) -> Int? {
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    guard let number = Int(arguments[index + 1]) else {
        printError("mpi-checks: \(flag) needs an integer, got '\(arguments[index + 1])'")
        exit(2)
    }
    return number
}

BLAS.setThreadCount(1)
Environment.run { environment in
    let world = environment.world
    if let failing = value(after: "--fail-rank") {
        try world.barrier()
        if world.rank == failing {
            if arguments.contains("--crash") { fatalError("rank \(failing) crashes on purpose") }
            throw CheckFailure(description: "rank \(failing) fails on purpose")
        }
        // Everyone else waits for a message the failing rank will never send.
        _ = try world.receive(Float.self, capacity: 1, from: failing, tag: 99)
        return
    }
    try runChecks([
        ringCheck, tagMatchingCheck, blockingCheck, partialBufferCheck,
        allreduceCheck, broadcastCheck, allgatherCheck, alltoallCheck,
        communicatorCheck, nodeCheck(processorName: try environment.processorName, expectedNodes: value(after: "--expect-nodes")),
        overlapCheck, iallreduceCheck,
        invalidRankCheck,
    ], on: world)
}
