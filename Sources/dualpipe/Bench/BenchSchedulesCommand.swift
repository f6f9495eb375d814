import ArgumentParser
import Foundation
import MPI
import Model
import Pipeline
import Schedule
import Tensor

/// `dualpipe bench schedules`: DualPipe, DualPipeV, 1F1B, ZB1P and GPipe trained on the same model,
/// data and ranks, side by side, each beside the simulator's prediction from the F, B, W, BW and
/// FB costs measured in the same run.
struct BenchSchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Train every schedule on the same model and ranks; step time, efficiency, bubble and MPI waits beside the simulator's prediction.",
        discussion: "Run under mpirun, e.g. `mpirun -np 2 dualpipe bench schedules`. Every rank is a pipeline rank (EP 1); the model's layers must split into 2 x PP stages (DualPipeV). Rank 0 prints the table.")

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("micro-batches"), help: ArgumentHelp("Micro-batches per step (default: 4 x PP, enough for every schedule).", valueName: "M"))
    var microBatches: Int?
    @Option(help: "Timed steps per schedule after one warm-up step; the median is reported.")
    var steps = 5

    func validate() throws {
        guard steps >= 1 && steps <= 1000 else { throw ValidationError("--steps must be in 1...1000, got \(steps)") }
    }

    func run() throws {
        ComputeSetup.configure()
        let modelConfiguration = try model.configuration()
        Environment.run { environment in
            let world = environment.world
            let pp = world.size, m = microBatches ?? 4 * pp
            let corpus = try ByteCorpus.standard()
            var rows = [["schedule", "stages", "step ms", "efficiency", "MPI wait ms/rank", "simulated ms", "sim/measured", "sim bubble ms"]]
            for kind in ScheduleKind.allCases {
                if kind == .dualpipe && pp % 2 != 0 { continue }
                let configuration = try PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: 1, microBatches: m,
                                                              model: modelConfiguration, worldSize: world.size)
                let grid = try RankGrid(world: world, configuration: configuration)
                let training = TrainingConfiguration(steps: steps + 1, microBatches: configuration.globalMicroBatches)
                let trainer = try PipelineTrainer(configuration: configuration, model: modelConfiguration, training: training,
                                                  grid: grid, corpus: corpus, seed: 1)
                var stepTimes: [Double] = [], efficiency: [Double] = [], waits: [Double] = []
                var durations: [Action.Op: [Double]] = [:]
                for step in 0...steps {
                    let report = try trainer.step(keepTrace: step == steps)
                    guard step > 0 else { continue } // warm-up
                    stepTimes.append(report.pipelineSeconds)
                    efficiency.append(report.efficiency)
                    waits.append(report.waitSeconds.reduce(0, +) / Double(report.waitSeconds.count))
                    for span in (report.timelines ?? []).joined() where span.kind == .compute {
                        if let action = Action(span.name) { durations[action.op, default: []].append((span.end - span.start) * 1000) }
                    }
                }
                guard world.rank == 0 else { continue }
                let simulated = try trainer.schedule.simulate(TraceSVG.measuredCosts(durations))
                let measured = median(stepTimes) * 1000
                rows.append([kind.title, "\(configuration.partition.stages)", decimal(measured, 1), decimal(median(efficiency), 2),
                             decimal(median(waits) * 1000, 1), decimal(simulated.makespan, 1),
                             decimal(simulated.makespan / measured, 2), decimal(simulated.bubble, 1)])
            }
            if world.rank == 0 {
                print("\(pp) pipeline ranks, \(m) micro-batches of \(modelConfiguration.tokensPerMicroBatch) tokens, \(modelConfiguration.layers) blocks, hidden \(modelConfiguration.hidden); OpenBLAS \(BLAS.coreName); medians of \(steps) steps")
                print(renderTable(rows, textColumns: 1), terminator: "")
                print("step: the schedule's wall time (slowest rank), without the gradient sums and the update; simulated: the same schedule\ncosted with the mean F, B, W, BW and FB measured on the last step, zero message latency")
            }
        }
    }
}
