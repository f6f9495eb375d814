import ArgumentParser
import MPI
import Model
import Pipeline

/// Runs a command's MPI part the way `train` does: MPI starts, the ranks make sure they all run
/// the same build (`Build.requireSameBuild`), every rank asks `check` for its verdict on the
/// job (the world size, the memory a node has) and, on a refusal, rank 0 prints it once and every
/// rank exits 64 after MPI_Finalize; `check` must reach the same verdict on every rank (use
/// collectives to agree, `agreeing` for checks of what each rank sees for itself). Then `body`
/// runs; an error in it ends the whole job at once (MPI_Abort), naming the rank, so no peer is
/// left waiting.
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
            try Build.requireSameBuild(environment)
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

    /// The resident set of the largest process of the job as it stands, before the run allocates:
    /// what every rank needs before its model (about 35 MiB: the Swift runtime, Open MPI, OpenBLAS).
    /// The largest, so that every rank counts the same. Collective over `world`.
    static func processResident(_ world: Communicator) throws -> Double {
        var bytes = [Double(residentBytes())]
        try world.allreduce(&bytes, op: .max)
        return bytes[0]
    }

    /// Refuses a pipeline run whose ranks on some node need more than its memory together: each
    /// rank `estimates[its pipeline rank]` (`RankMemoryEstimate`: its held stages and the micro-batch
    /// contexts its schedule keeps alive at once; its `process` is measured here, on every
    /// estimate), and `reference` (--check-reference's copy) where it is held. The message, after
    /// `run`, describes the pipeline rank that needs the most. Returns whether every node fits.
    @discardableResult
    static func requireMemory(_ estimates: inout [RankMemoryEstimate], of configuration: PipelineConfiguration, world: Communicator, run: String,
                              reference: ReferenceCopy? = nil, skip: Bool) throws -> Bool {
        let process = try processResident(world)
        for i in estimates.indices { estimates[i].process = process }
        let (largest, e) = estimates.largest!
        let gib = PhysicalMemory.formatted
        let what = "\(run): pipeline rank \(largest) keeps up to \(e.contexts) micro-batches' activations at once (\(gib(e.contextBytes)) each) and "
            + "\(gib(e.parameters)) of parameters with gradients and AdamW moments" + (e.data > 0 ? ", \(gib(e.data)) of inputs and targets" : "")
            + (e.sums > 0 ? ", \(gib(e.sums)) of buffers for the gradient sums" : "")
            + (e.messageBuffers > 0 ? ", \(gib(e.messages)) for \(e.messageBuffers) message buffers" : "")
            + (e.checkpoint > e.activations + e.transient ? ", \(gib(e.checkpoint)) in the activations' place while a checkpoint is saved or read" : "")
            + (reference.map { ", and \($0)" } ?? "")
        let extra = reference?.bytes(onWorldRank: world.rank) ?? 0
        return try requireMemory(need: estimates[configuration.grid.coordinates(of: world.rank).pipeline].run + extra, process: process, world: world, what: what, skip: skip)
    }

    /// Refuses a job whose ranks on some node together need more than that node's memory: `need`
    /// bytes on this rank beyond `process`, each rank's process before it allocates (the ranks of a
    /// node add theirs and compare with its MemTotal, or their cgroup's memory limit where lower: a
    /// Slurm job's --mem, a container's; the worst node decides, the same verdict everywhere).
    /// `what` says which flags ask for the memory. With `skip` (--skip-memory-check) rank 0 prints
    /// the refusal as a warning and the job goes on; returns whether every node fits.
    @discardableResult
    static func requireMemory(need: Double, process: Double, world: Communicator, what: String, skip: Bool) throws -> Bool {
        let node = try world.splitByNode().node
        var together = [need, process]
        try node.allreduce(&together, op: .sum)
        let limit = PhysicalMemory.limit
        let have = Double(limit?.bytes ?? Int.max)
        // [node's need with its processes - its memory (the worst node's excess), its need, its
        // memory, its ranks, one rank's most, whether its memory is a cgroup's limit, its processes]
        var worst = [together[0] + together[1] - have, together[0], have, Double(node.size), need, limit?.isCgroup == true ? 1 : 0, together[1]]
        var excess = [worst[0]]
        try world.allreduce(&excess, op: .max)
        guard excess[0] > 0 else { return true }
        if worst[0] != excess[0] { worst = Array(repeating: -.infinity, count: worst.count) }
        try world.allreduce(&worst, op: .max)
        let most = PhysicalMemory.formatted(worst[4])
        let each = abs(worst[4] * worst[3] - worst[1]) <= 1e-9 * worst[1] ? "\(most) each" : "up to \(most) a rank"
        let processes = worst[6] > 0 ? " and \(PhysicalMemory.formatted(worst[6])) for their \(Int(worst[3])) process\(worst[3] == 1 ? "" : "es") as they started" : ""
        let verdict = "\(what): the ranks of a node need about \(PhysicalMemory.formatted(worst[1])) together (\(each))\(processes); a node has \(PhysicalMemory.formatted(worst[2])) (\(worst[5] > 0 ? "the memory limit of its cgroup" : "MemTotal"))"
        try MemoryCheckOption.refuse(verdict, skip: skip, prints: world.rank == 0)
        return false
    }
}
