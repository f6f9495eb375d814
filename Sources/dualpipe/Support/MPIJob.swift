import ArgumentParser
import MPI
import Model

/// Runs a command's MPI part the way `train` does: MPI starts, every rank asks `check` for its
/// verdict on the job (the world size, the memory a node has) and, on a refusal, rank 0 prints it
/// once and every rank exits 64 after MPI_Finalize; `check` must reach the same verdict on every
/// rank (use collectives to agree, `agreeing` for checks of what each rank sees for itself). Then
/// `body` runs; an error in it ends the whole job at once (MPI_Abort), naming the rank, so no peer
/// is left waiting.
enum MPIJob {
    static func run(threadLevel: ThreadLevel = .funneled, check: (Environment) throws -> Void, _ body: (Environment) throws -> Void) throws {
        let environment: Environment
        do {
            environment = try Environment(requestedThreadLevel: threadLevel)
        } catch {
            printError("error: could not start MPI: \(error)")
            throw ExitCode.failure
        }
        do {
            try check(environment)
        } catch {
            if environment.world.rank == 0 { printError("Error: \(CommandFailure.describe(error))") }
            try? environment.finalize()
            throw ExitCode.validationFailure
        }
        environment.runOrAbort(body)
    }

    /// Runs `local`, a part of a job's check whose verdict may differ from rank to rank (a file or
    /// a checkpoint that only some nodes see), and makes it one verdict: when any rank refuses,
    /// every rank throws, rank 0 with the lowest refusing rank's reason, naming that rank and its
    /// node unless every rank refused. `local` must not communicate. Collective over the world.
    static func agreeing(_ environment: Environment, _ local: () throws -> Void) throws {
        let world = environment.world
        var refusal: Error?
        do { try local() } catch { refusal = error }
        let refused = try world.allgather([Int32(refusal == nil ? 0 : 1)])
        guard let first = refused.firstIndex(of: 1) else { return }
        if let refusal, !refused.contains(0) { throw refusal }
        var text: [UInt8] = []
        if world.rank == first {
            let count = refused.reduce(0, +)
            // Nothing here may throw: the other ranks already wait in the broadcast.
            let node = (try? environment.processorName) ?? "?"
            text = Array("rank \(first) on \(node) (\(count) of \(world.size) ranks refused): \(CommandFailure.describe(refusal!))".utf8)
        }
        var length = [Int64(text.count)]
        try world.broadcast(&length, root: first)
        if world.rank != first { text = [UInt8](repeating: 0, count: Int(length[0])) }
        try world.broadcast(&text, root: first)
        throw ValidationError(String(decoding: text, as: UTF8.self))
    }

    /// Refuses a job whose ranks on some node together need more than that node's memory:
    /// `perRank` bytes on every rank (each rank reports its node's count and MemTotal; the worst
    /// node decides, the same verdict everywhere). `what` says which flags ask for the memory.
    static func requireMemory(perRank: Double, world: Communicator, what: String) throws {
        let node = try world.splitByNode().node
        var need = [perRank * Double(node.size)]
        var have = [Double(PhysicalMemory.total ?? Int.max)]
        try world.allreduce(&need, op: .max)
        try world.allreduce(&have, op: .min)
        guard need[0] > have[0] else { return }
        throw ValidationError("\(what): the ranks of a node need about \(PhysicalMemory.formatted(need[0])) together (\(PhysicalMemory.formatted(perRank)) each); a node has \(PhysicalMemory.formatted(have[0])) (MemTotal)")
    }
}
