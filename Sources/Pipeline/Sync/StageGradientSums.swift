import MPI
import Model
import Schedule

/// The gradient sums of the stages a rank holds, each started as early as its copies allow. A
/// stage whose copies are all final before their ranks' last compute (DualPipe at PP 2: the stage
/// both ranks finish with a BW, while a B and a W of the other stage remain) is summed during the
/// schedule when its replica group is a pair on two nodes (DualPipe's mirror pair at EP 1, across
/// the link): once the rank's pipeline messages are over, the two ranks swap the stage's gradients
/// by MPI_Isend/MPI_Irecv, which cross the link while the ranks compute the rest of the schedule.
/// Every other sum runs after the schedule, by the blocking allreduce over the replica group, which
/// Open MPI's coll/tuned does faster than libnbc's nonblocking one (1.7 ms a step less on the
/// default model at PP 2 on one node; across a 1 Gbit/s link, libnbc's took 115 ms where the
/// blocking one took 96). At EP 2 (the EP group summing first, blocking, then each rank swapping
/// with its mirror) the step came out 5 to 28% slower on the two local nodes, so larger groups
/// keep the blocking sum. Each stage sums over its own duplicate of the replica communicator, so
/// that the stages' sums may start in any order.
public final class StageGradientSums {
    private struct Sums {
        let stage: Int
        let dense: GradientSync
        let experts: ExpertGradientSync
        /// The compute (its ordinal in this rank's program) after which the sum starts; nil:
        /// after the schedule.
        let startsAfter: Int?
    }
    private let sums: [Sums]
    private var swaps: [Int: [PairSwap]] = [:]
    /// The first MPI error met while polling, thrown by `finish`.
    private var failure: Error?
    /// Whether the swaps may go now (`follow` sets it).
    private var mayStart: () -> Bool = { true }

    /// `stages` are the rank's held stages, `experts(stage)` its MoE layers' slots in block order,
    /// `early` what `SumStarts.early` gives for this rank (empty: every sum after the schedule).
    /// Collective over `replicas` (every rank of it holds the same stages).
    public init(stages: [any StageModule], experts: (Int) -> [ExpertSlots], replicas: Communicator, early: [Int: Int]) throws {
        // Within a node the swap is the two cores' own copies through shared memory, which no
        // compute hides (measured: no faster on one node); across nodes the wire time is hidden.
        let pairAcrossNodes = replicas.size == 2 ? try replicas.splitSharedMemory().size == 1 : false
        sums = try stages.sorted { $0.index < $1.index }.map { stage in
            let communicator = replicas.size > 1 ? try replicas.duplicate() : replicas
            return Sums(stage: stage.index, dense: GradientSync(stages: [stage], replicas: communicator),
                        experts: ExpertGradientSync(layers: experts(stage.index), replicas: communicator),
                        startsAfter: pairAcrossNodes ? early[stage.index] : nil)
        }
    }

    /// Starts the sums from the computes of `pass` (the training pass), and holds the swaps until
    /// its messages are over for this rank (tested here, since with `--mpi-progress thread` or
    /// `library` no poll runs between phases). A swap that shares the link with an activation or a
    /// gradient that a rank awaits would delay it (across a 1 Gbit/s link, the MLP's last B waited
    /// for its gradient behind 8 MB of sums).
    public func follow<T: Transport>(_ pass: Interpreter<T>) {
        pass.afterCompute = { [unowned self] in try computed($0) }
        mayStart = { [unowned pass] in pass.progressPending(); return pass.messagesDone }
    }

    /// The stages whose sums start during the schedule.
    public var earlyStages: [Int] { sums.filter { $0.startsAfter != nil }.map(\.stage) }

    /// Called after each compute of the training pass (`ordinal` counts from 0): the stages final
    /// there gather their gradients, and their swaps go as soon as `mayStart`.
    func computed(_ ordinal: Int) throws {
        for s in sums where s.startsAfter == ordinal {
            precondition(swaps[s.stage] == nil, "the sums of stage \(s.stage) started twice in a step")
            swaps[s.stage] = [s.dense.prepareSwap(), s.experts.prepareSwap()].compactMap { $0 }
        }
        try postDue()
    }

    /// Lets MPI move the swaps in flight, and posts the due ones (between compute phases).
    public func progress() {
        guard failure == nil, !swaps.isEmpty else { return }
        do {
            try postDue()
            for list in swaps.values { for swap in list { try swap.progress() } }
        } catch {
            failure = error
        }
    }

    private func postDue() throws {
        let due = swaps.values.joined().filter { !$0.isPosted }
        guard !due.isEmpty, mayStart() else { return }
        for swap in due { try swap.post() }
    }

    /// After the schedule: the remaining stages summed in stage order, the swaps completed (posted
    /// now if they were still due), every sum scattered back to the parameters. Returns the bytes
    /// this rank contributed.
    public func finish() throws -> Int {
        if let failure { self.failure = nil; throw failure }
        var bytes = 0
        for s in sums where s.startsAfter == nil {
            bytes += try s.dense.synchronise() + s.experts.synchronise()
        }
        for s in sums where s.startsAfter != nil {
            guard let list = swaps.removeValue(forKey: s.stage) else {
                throw PipelineError("the gradient sums of stage \(s.stage) were to start after compute \(s.startsAfter!) of the step, which never ran")
            }
            for swap in list { bytes += try swap.complete() }
        }
        return bytes
    }
}

/// When the gradient sums of each held stage may start.
public enum SumStarts {
    /// [stage: the ordinal of this rank's compute after which its sums start] for the stages
    /// that every rank holding a copy finishes before its own last compute: only then is there
    /// compute left to hide the sums under on every rank, and only so do all the ranks holding a
    /// stage agree to swap it early (a swap needs its partner to swap, not to allreduce). A stage
    /// touched by no compute of its rank is never early.
    public static func early(programs: [[Instruction]], stagesHeld: (Int) -> [Int], pipelineRank: Int) -> [Int: Int] {
        let lastTouches = programs.map { program in
            var ordinal = 0, last: [Int: Int] = [:]
            for case .compute(let action) in program {
                for chunk in action.chunks { last[chunk.stage] = ordinal }
                ordinal += 1
            }
            return (computes: ordinal, last: last)
        }
        var early: [Int: Int] = [:]
        for stage in stagesHeld(pipelineRank) {
            let holders = programs.indices.filter { stagesHeld($0).contains(stage) }
            let finishesEarly = holders.allSatisfy { p in
                lastTouches[p].last[stage].map { $0 < lastTouches[p].computes - 1 } ?? false
            }
            if finishesEarly { early[stage] = lastTouches[pipelineRank].last[stage] }
        }
        return early
    }
}
