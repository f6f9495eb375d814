import ArgumentParser
import Foundation
import Model
import Tensor

/// `dualpipe train --reference`: the single-process oracle trainer.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the MoE transformer on a byte-level corpus.",
        discussion: "Only the single-process reference trainer exists yet: pass --reference.")

    @Flag(help: "Run the single-process reference trainer (required: the pipeline trainer is not built yet).")
    var reference = false
    @Option(help: "Optimizer steps.")
    var steps = 200
    @Option(help: "Training text, read as bytes (default: the licence texts in /usr/share/common-licenses).")
    var data: String?
    @Option(help: "Seed of the initialisation and of the data sampling.")
    var seed: UInt64 = 1
    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("micro-batches"), help: "Micro-batches per step, gradients accumulated.")
    var microBatches = 4
    @Option(help: "Pipeline stages the reference model is cut into; numbers do not change.")
    var stages = 1
    @Option(help: "Peak learning rate.")
    var lr: Float = 3e-3
    @Option(name: .customLong("min-lr"), help: "Learning rate at the end of the cosine decay.")
    var minLR: Float = 3e-4
    @Option(help: "Linear warmup steps.")
    var warmup = 20
    @Option(name: .customLong("weight-decay"), help: "AdamW weight decay on matrices.")
    var weightDecay: Float = 0.1
    @Option(help: "Global gradient-norm clip, 0 for none.")
    var clip: Float = 1

    func validate() throws {
        guard reference else {
            throw ValidationError("only `dualpipe train --reference` exists yet (the MPI pipeline trainer comes later); pass --reference")
        }
    }

    func run() throws {
        ComputeSetup.configure()
        let modelConfiguration = try model.configuration()
        let training = TrainingConfiguration(
            steps: steps, microBatches: microBatches, learningRate: lr, minimumLearningRate: minLR,
            warmupSteps: warmup, weightDecay: weightDecay, clipNorm: clip)
        let trainer: ReferenceTrainer
        let corpus: ByteCorpus
        do {
            corpus = try data.map { try ByteCorpus(contentsOf: $0) } ?? ByteCorpus.standard()
            let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: modelConfiguration.sequenceLength,
                                                sequences: modelConfiguration.microBatchSize, seed: seed)
            trainer = try ReferenceTrainer(model: modelConfiguration, training: training, sampler: sampler,
                                           seed: seed, stageCount: stages)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let parameters = trainer.stages.reduce(0) { $0 + $1.parameterCount }
        print("reference trainer: \(parameters) parameters, \(stages) stage(s), \(corpus.bytes.count) bytes from \(corpus.source), OpenBLAS threads \(BLAS.threadCount)")
        let start = ContinuousClock.now
        var last = start
        for _ in 0..<steps {
            let report = trainer.step()
            let now = ContinuousClock.now
            let stepSeconds = (now - last).inSeconds, elapsed = (now - start).inSeconds
            last = now
            print(String(format: "step %4d  loss %.4f  lr %.2e  |g| %7.3f  tokens/s %8.0f  elapsed %7.2fs",
                         report.step, report.loss, report.learningRate, report.gradientNorm,
                         Double(report.tokens) / stepSeconds, elapsed))
        }
    }
}
