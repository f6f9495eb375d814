// mpi-checks: MPI behaviour under real mpirun. scripts/test launches it at 1, 2, 4 and 8 ranks.
//
//   mpi-checks [--expect-nodes N] [--tcp-eager-limit BYTES]
//                                          run every check; exit 0 only if all pass (BYTES: the
//                                          limit MPI_T must read, as `ompi_info` reports it)
//   mpi-checks --fail-rank R [--crash]     rank R fails (throws, or crashes with --crash) while the
//                                          others wait for it: the job must end promptly, not hang
//   mpi-checks --progress-thread-unstopped a progress thread left running when MPI ends: finalize
//                                          must stop it (a probe after MPI_Finalize aborts the job)
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
if arguments.contains("--progress-thread-unstopped") {
    Environment.run(requestedThreadLevel: .multiple) { environment in
        let world = environment.world
        _ = try ProgressThread(environment: environment, communicator: world, interval: 0.000_1)
        // Messages for it to progress, then nothing calls stop(): finalize has to.
        let message = [Float](repeating: Float(world.rank), count: 1 << 16)
        let peer = (world.rank + 1) % world.size, from = (world.rank + world.size - 1) % world.size
        let inbox = MessageBuffer<Float>(count: message.count, repeating: -1)
        let receive = try world.irecv(into: inbox, from: from, tag: 5)
        let send = try world.isend(message, to: peer, tag: 5)
        _ = try send.wait()
        _ = try receive.wait()
        guard inbox.array.allSatisfy({ $0 == Float(from) }) else {
            throw CheckFailure(description: "the ring message from rank \(from) arrived wrong")
        }
    }
    usleep(50_000) // a thread still probing would call MPI after MPI_Finalize within this
    print("ok   an unstopped progress thread ended with MPI_Finalize")
    exit(0)
}
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
        overlapCheck, iallreduceCheck, controlVariableCheck(expectedTCPEagerLimit: value(after: "--tcp-eager-limit")),
        enumeratedControlVariableCheck,
        invalidRankCheck,
    ], on: world)
}
