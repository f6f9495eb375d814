import Pipeline
import Schedule

extension BenchSchedulesCommand {
    /// One schedule's trainer and what its timed steps measured.
    struct Contender {
        /// The row's name: the schedule's, or what differs from how `train` runs it.
        let label: String
        let configuration: PipelineConfiguration
        let schedule: Schedule
        let pairOrder: StageExecutor.PairOrder
        let step: (_ keepTrace: Bool) throws -> PipelineStepReport
        var stepTimes: [Double] = [], updateTimes: [Double] = [], efficiency: [Double] = [], bubbles: [Double] = [], waits: [Double] = []
        /// Each step's schedule and update together.
        var wholeTimes: [Double] { zip(stepTimes, updateTimes).map(+) }
        /// With --shaped: each round's step on the unshaped link, and that step with its update, in seconds.
        var unshapedTimes: [Double] = [], unshapedWholeTimes: [Double] = []
        /// Each timed step's compute, mean over the ranks, in seconds: on the table's link, and with
        /// --shaped on the unshaped one. What a slower link does to the actions themselves (the
        /// CPU that carries the messages, or emulates the wire, is the ranks' CPU) rather than to
        /// the waits between them.
        var computeTimes: [Double] = [], unshapedComputeTimes: [Double] = []
        /// Rank 0: each timed step's actions and its time, in milliseconds.
        var traced: [(durations: [Action: Double], measured: Double)] = []
        /// The parameters the largest rank holds, and the most that one rank updates.
        let parameters: (held: Int, updated: Int)
        /// What `train`'s memory check counts for the rank that needs the most, without the
        /// process (`RankMemoryEstimate.run`), in bytes.
        let estimatedBytes: Double
        /// The world rank of each pipeline rank, in the order the schedule was placed in.
        func worldRank(_ pipelineRank: Int) -> Int { configuration.grid.worldRank(pipeline: pipelineRank, expert: 0) }

        init(label: String, configuration: PipelineConfiguration, schedule: Schedule, pairOrder: StageExecutor.PairOrder,
             step: @escaping (Bool) throws -> PipelineStepReport, parameters: (held: Int, updated: Int), estimatedBytes: Double) {
            self.label = label; self.configuration = configuration; self.schedule = schedule; self.pairOrder = pairOrder; self.step = step
            self.parameters = parameters; self.estimatedBytes = estimatedBytes
        }

        /// A rank's compute actions in the step, mean over the ranks, in seconds.
        static func meanCompute(_ report: PipelineStepReport) -> Double {
            report.computeSeconds.reduce(0, +) / Double(report.computeSeconds.count)
        }

        mutating func recordUnshaped(_ report: PipelineStepReport) {
            unshapedTimes.append(report.pipelineSeconds)
            unshapedWholeTimes.append(report.stepSeconds)
            unshapedComputeTimes.append(Self.meanCompute(report))
        }

        mutating func record(_ report: PipelineStepReport) {
            let ranks = Double(report.waitSeconds.count)
            stepTimes.append(report.pipelineSeconds)
            updateTimes.append(report.stepSeconds - report.pipelineSeconds)
            efficiency.append(report.efficiency)
            let compute = Self.meanCompute(report)
            computeTimes.append(compute)
            bubbles.append(report.pipelineSeconds - compute)
            waits.append(report.waitSeconds.reduce(0, +) / ranks)
            guard let timelines = report.timelines else { return }
            var durations: [Action: Double] = [:]
            for span in timelines.joined() where span.kind == .compute {
                guard let action = Action(span.name) else { continue }
                durations[action] = span.busySeconds * 1000
            }
            traced.append((durations, report.pipelineSeconds * 1000))
        }

        /// `F0 5.76  F1 6.30  B0 6.15 ...`: the median over the steps of each kind's mean time on each
        /// stage (an FB pair: its forward's and its backward's), kinds in F, B, W, BW, FB order and
        /// stages ascending.
        func actionTimes() -> String {
            struct Kind: Hashable { let op: Action.Op; let stages: [Int] }
            var perStep: [Kind: [Double]] = [:]
            for (durations, _) in traced {
                var sums: [Kind: (total: Double, count: Int)] = [:]
                for (action, ms) in durations {
                    let kind = Kind(op: action.op, stages: action.chunks.map(\.stage))
                    sums[kind, default: (0, 0)].total += ms
                    sums[kind, default: (0, 0)].count += 1
                }
                for (kind, sum) in sums { perStep[kind, default: []].append(sum.total / Double(sum.count)) }
            }
            let ops = Action.Op.allCases
            return perStep.keys.sorted {
                $0.op == $1.op ? $0.stages.lexicographicallyPrecedes($1.stages) : ops.firstIndex(of: $0.op)! < ops.firstIndex(of: $1.op)!
            }.map { "\($0.op.rawValue)\($0.stages.map(String.init).joined(separator: "+")) \(decimal(median(perStep[$0]!), 2))" }
            .joined(separator: "  ")
        }

        /// The table's row, each message costed on its link (`links`, in milliseconds). Each step is
        /// predicted from its own costs and compared with its own time, so a slow spell in one step
        /// is in both the prediction and the measurement it is held to.
        func row(links: Links) throws -> [String] {
            var predicted: [Double] = [], simulatedBubbles: [Double] = [], predictedRatio: [Double] = [],
                replayRatio: [Double] = [], hiddenShares: [Double] = []
            let pp = schedule.ranks
            // A message costs its link's latency alone, and no less than its turn on the link in a stream.
            var communication = 0.0
            for case .postSend(let t) in schedule.lowered().programs.joined() {
                communication += max(links.latency(from: t.source, to: t.destination), links.transfer(from: t.source, to: t.destination))
            }
            communication /= Double(pp)
            let free = Links(ranks: pp, latency: 0)
            // Pairs as the runtime ran them (EP 1, so a late gradient is awaited after the forward),
            // their parts in the proportions of the step's own means.
            let pairs: PairTiming = pairOrder == .sequential ? .sequential : .interleaved(lateGradient: true)
            for (durations, measured) in traced {
                let costs = StageCosts(durations, of: schedule)
                let simulated = try schedule.simulate(costs, links: links, pairs: pairs)
                let replay = { (links: Links) in
                    try schedule.replay(links: links, pairs: pairs, parts: costs.pairParts(of:)) { durations[$0] ?? 0 }
                }
                let replayed = try replay(links)
                predicted.append(simulated.makespan)
                simulatedBubbles.append(simulated.bubble)
                predictedRatio.append(simulated.makespan / measured)
                replayRatio.append(replayed.makespan / measured)
                // Communication: every message a rank sends, at its link's measured latency. What of it
                // the step pays for is how much later the replay ends with the latencies than without.
                let exposed = max(0, replayed.makespan - (try replay(free)).makespan)
                hiddenShares.append(communication > 0 ? min(1, max(0, 1 - exposed / communication)) : 1)
            }
            return [label, "\(configuration.partition.stages)", decimal(median(stepTimes) * 1000, 1),
                    decimal(median(updateTimes) * 1000, 1), decimal(median(efficiency), 2), decimal(median(bubbles) * 1000, 1),
                    decimal(median(waits) * 1000, 1), decimal(communication, 1), decimal(median(hiddenShares), 2), decimal(median(predicted), 1),
                    decimal(median(predictedRatio), 2), decimal(median(replayRatio), 2), decimal(median(simulatedBubbles), 1)]
        }
    }
}
