import ArgumentParser
import Model
import Pipeline
import Tensor

/// `dualpipe train --reference`: every stage in this process, micro-batches one after another.
struct ReferenceRun {
    let options: TrainCommand

    func run() throws {
        let o = options
        // Held to the machine's memory in TrainCommand.validate, or here with the warning of
        // --skip-memory-check.
        let modelConfiguration = try o.model.configuration(memory: nil)
        if o.memoryCheck.skip { try o.memoryCheck.requireFits(modelConfiguration) }
        let microBatches = o.microBatches ?? 4
        let stageCount = o.stages ?? 1
        let trainer: ReferenceTrainer
        let corpus: ByteCorpus
        let evaluationSampler: MicroBatchSampler
        do {
            corpus = try o.corpus()
            let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: modelConfiguration.sequenceLength, source: corpus.source)
            let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: modelConfiguration.sequenceLength,
                                                sequences: modelConfiguration.microBatchSize, seed: o.seed, span: split.training)
            evaluationSampler = try MicroBatchSampler(corpus: corpus, sequenceLength: modelConfiguration.sequenceLength,
                                                      sequences: modelConfiguration.microBatchSize, seed: o.seed, span: split.evaluation)
            trainer = try ReferenceTrainer(model: modelConfiguration, training: o.trainingConfiguration(microBatches: microBatches),
                                           sampler: sampler, seed: o.seed, stageCount: stageCount, memory: nil)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        trainer.routerBiasSpeed = try o.balancing().routerBiasSpeed
        let metrics = try o.output.metrics.map { try LineWriter(path: $0) }
        let parameters = trainer.stages.reduce(0) { $0 + $1.parameterCount }
        print("reference trainer: \(parameters) parameters, \(stageCount) stage(s), \(microBatches) micro-batches a step, \(corpus.bytes.count) bytes from \(corpus.source), \(ComputeSetup.kernelsDescription), \(BLAS.threadCount) thread(s)")
        if let note = metrics?.replacementNote { print(note) }
        let start = ContinuousClock.now
        var last = start
        for _ in 0..<o.steps {
            let report = trainer.step()
            let now = ContinuousClock.now
            let stepSeconds = (now - last).inSeconds, elapsed = (now - start).inSeconds
            last = now
            let tokensPerSecond = Double(report.tokens) / stepSeconds
            if o.logs(step: report.step, firstStep: 0) {
                print(stepLine(step: report.step, loss: report.loss, lr: report.learningRate, gradientNorm: report.gradientNorm,
                               tokensPerSecond: tokensPerSecond, String(format: "elapsed %7.2fs", elapsed)))
            }
            var evalLoss: Float?
            if o.evaluates(after: report.step) {
                evalLoss = trainer.evaluate(sampler: evaluationSampler).loss
                print(String(format: "eval %4d  loss %.4f  (held-out, %d micro-batches)", report.step, evalLoss!, microBatches))
            }
            if let metrics {
                let record = PipelineStepReport(
                    step: report.step, loss: report.loss, microBatchLosses: trainer.microBatchLosses,
                    gradientNorm: report.gradientNorm, learningRate: report.learningRate, tokens: report.tokens,
                    stepSeconds: stepSeconds, pipelineSeconds: stepSeconds, computeSeconds: [stepSeconds], waitSeconds: [0],
                    sentBytes: [0], syncBytes: [0], residentBytes: [residentBytes()], timelines: nil)
                try metrics.write(try MetricsRecord(record, evalLoss: evalLoss).jsonLine()) // no all-to-all: empty exchange lists
            }
        }
    }
}
