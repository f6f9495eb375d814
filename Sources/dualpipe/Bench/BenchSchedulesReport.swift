import Foundation
import Pipeline
import Schedule
import Tensor

extension BenchSchedulesCommand {
    /// Rank 0's report: the table of every schedule beside the simulator, each against 1F1B, the
    /// memory each asks of a rank, with --actions each one's action times, with --shaped each one's
    /// slowdown on the slower link, and what every column means.
    func report(_ plan: Plan, _ contenders: [Contender], probe: LinkProbe, shaping: LinkShaping?, pairOrder: StageExecutor.PairOrder,
                messageFloats: Int) throws {
        let rows = [["schedule", "stages", "step ms", "update ms", "efficiency", "bubble ms", "MPI wait ms", "comm ms", "hidden",
                     "simulated ms", "sim/measured", "replay/measured", "sim bubble ms"]]
            + (try contenders.map { try $0.row(links: probe.links(of: $0.schedule, worldRank: $0.worldRank, scale: 1000)) })
        let what = plan.mlp.map { "--model mlp (\(contenders[0].configuration.partition.layers) blocks, hidden \($0.hidden), \($0.tokensPerMicroBatch) rows a micro-batch)" }
            ?? "\(plan.moe!.layers) blocks, hidden \(plan.moe!.hidden), \(plan.moe!.tokensPerMicroBatch) tokens a micro-batch"
        print("\(contenders[0].configuration.pipelineRanks) pipeline ranks, \(plan.microBatches) micro-batches, \(what); OpenBLAS \(BLAS.coreName); MPI progress: \(progress.mode.rawValue); \(MessageTransports.description); FB pairs \(pairOrder.rawValue); medians of \(steps) steps, the schedules alternating step by step; \(cpuModelName())")
        if let dualPipe = plan.configurations[.dualpipe], dualPipe.rankOrder == .mirror {
            print("DualPipe's " + MirrorPlacement.orderLine(dualPipe, choice: rankOrder) + "; the other schedules: rank = pp")
        }
        print(probe.report(floats: messageFloats))
        print(renderTable(rows, textColumns: 1), terminator: "")
        if let baseline = contenders.first(where: { $0.label == ScheduleKind.oneFOneB.title }) {
            print(renderTable(Self.againstBaseline(contenders, baseline: baseline), textColumns: 1), terminator: "")
        } else {
            print("(no table against 1F1B: --schedules leaves out 1f1b)")
        }
        var memory = [["schedule", "parameters held", "updated", "weights+gradients MiB", "AdamW moments MiB", "estimated MiB", "micro-batches kept"]]
        for c in contenders {
            memory.append([c.label, String(c.parameters.held), String(c.parameters.updated),
                           pairOfFloatsMiB(c.parameters.held), pairOfFloatsMiB(c.parameters.updated),
                           decimal(c.estimatedBytes / 1_048_576, 1), String(c.schedule.savedContexts.max() ?? 0)])
        }
        print("memory a rank needs (each column the largest over the ranks): a weight and a gradient for every parameter it holds, two AdamW moments for every one it updates; "
              + "estimated: all that train's memory check counts but the process (the parameters and moments, the micro-batches kept, the gradient sums' and the message buffers: docs/inputs.md); "
              + "micro-batches kept: the most stage activations its schedule keeps at once, each from its F until its W (a stage is 1/stages of the model: see the first table)")
        print(renderTable(memory, textColumns: 1), terminator: "")
        if actions {
            print("actions: each kind on each stage (FB by its forward's and its backward's stage), its mean over a step's actions on every rank, median over the steps, in ms")
            for c in contenders { print("\(c.label): \(c.actionTimes())") }
        }
        if let shaping {
            print("the table's steps ran on the link --shaped sets ('\(shaping.shaped)'); in every round each schedule also stepped on the one --unshaped sets ('\(shaping.unshaped)'), the halves of a round in turn:")
            var slowdowns = [["schedule", "unshaped ms", "shaped ms", "slowdown", "whole unshaped ms", "whole shaped ms", "whole slowdown",
                              "compute slowdown"]]
            for c in contenders {
                slowdowns.append([c.label, decimal(median(c.unshapedTimes) * 1000, 1),
                                  decimal(median(c.stepTimes) * 1000, 1), Self.medianRatio(c.stepTimes, c.unshapedTimes),
                                  decimal(median(c.unshapedWholeTimes) * 1000, 1), decimal(median(c.wholeTimes) * 1000, 1),
                                  Self.medianRatio(c.wholeTimes, c.unshapedWholeTimes), Self.medianRatio(c.computeTimes, c.unshapedComputeTimes)])
            }
            print(renderTable(slowdowns, textColumns: 1), terminator: "")
            print("slowdown: the median over the rounds of a round's shaped step over its unshaped one; whole: the step with its update; "
                  + "compute: a rank's compute actions in the step, mean over the ranks (where it slows as much as the step, the "
                  + "messages are hidden and the slower link costs the actions CPU: TCP's, or the emulated wire's on these cores)")
        }
        print("""
            step: the schedule's wall time (slowest rank), without the gradient sums and the update; update: the
            rest of the step (slowest rank), the sums over the copies of each stage (DualPipe's mirror pair),
            clipping and AdamW (DualPipe: sharded over each mirror pair that shares a node, each rank updating one
            stage and sending its weights; unsharded where a pair spans nodes and in `AdamW on both copies`); bubble: step minus
            a rank's compute, mean over ranks; MPI wait: time blocked on messages (bubble included), mean over
            ranks; comm: a rank's messages, each at its link's latency above (or the time it holds the link, if
            longer: messages that follow each other go no faster than that); hidden: the share of that the step does
            not pay for (1 - (replay with the latencies - replay without) / comm); simulated: the schedule costed
            with each step's own mean F, B, W, BW and FB of every stage on every rank and each message at its link's
            latency above (waiting while its link carries the ones sent before it), each FB pair and BW timed as the runtime ran it
            (outputs leaving inside it, a gradient before its W, a pair's late gradient awaited after its F);
            sim/measured: that over the same step's time; replay: each step simulated with each action's own
            measured time (what the mean costs miss is the actions' variance); hidden, simulated and the ratios are
            medians over the steps; whole step: step plus update; / 1F1B's: each step over 1F1B's step of the same
            round (the schedules take turns step by step), median over the steps
            """)
    }

    /// Each schedule's whole step (the schedule and the update after it), and its schedule and whole
    /// step over `baseline`'s of the same round: the schedules alternate step by step, so each
    /// ratio compares steps that ran a few hundred milliseconds apart, not two spells of the machine.
    private static func againstBaseline(_ contenders: [Contender], baseline: Contender) -> [[String]] {
        [["schedule", "whole step ms", "step / 1F1B's", "whole step / 1F1B's"]] + contenders.map { c in
            [c.label, decimal(median(c.wholeTimes) * 1000, 1), medianRatio(c.stepTimes, baseline.stepTimes), medianRatio(c.wholeTimes, baseline.wholeTimes)]
        }
    }

    /// The median of the step-by-step ratios a[i] / b[i] (steps of the same round), to 2 decimals.
    private static func medianRatio(_ a: [Double], _ b: [Double]) -> String {
        decimal(median(zip(a, b).map { $0 / $1 }), 2)
    }
}
