import ArgumentParser
import Foundation
import Model
import Tensor

/// `dualpipe bench model`: F, B and W time per micro-batch of whole models, and how close the
/// matmul work gets to single-core sgemm measured in the same run.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time F, B and W per micro-batch and compare the achieved GFLOP/s with sgemm.",
        discussion: """
            Measures the default training model (the `train` defaults) and wider ones of the given \
            hidden sizes (heads of 64, 2 blocks: one dense, one MoE, expert and shared-expert width = \
            hidden, dense width 4 x hidden). GFLOP/s counts matmul work only: the weight products \
            (sgemm) and attention's per-head products, of which the causal half (what the causal \
            kernels compute); the ratio divides it by single-core sgemm at n = 1024, measured in \
            rounds alternating with the models. The last three columns time every sgemm call inside \
            the passes: the share of F + B + W spent in BLAS, BLAS's own GFLOP/s at the model's \
            shapes, and that over sgemm at n = 1024. With --attention, attention's products are also \
            timed alone, as dense sgemm and as the causal kernels. One OpenBLAS thread unless \
            OPENBLAS_NUM_THREADS is set.
            """)

    @Option(name: .customLong("wide-hidden"), parsing: .upToNextOption, help: "Hidden sizes of the wider models.")
    var wideHidden: [Int] = [512, 1024]
    @Option(help: "Timed micro-batches per model and round; the fastest counts, as for sgemm.")
    var repetitions = 5
    @Option(help: "Rounds, each timing sgemm and then every model; the best of all rounds counts.")
    var rounds = 3
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.")
    var sequenceLength = 128
    @Option(name: .customLong("micro-batch-size"), help: "Sequences per micro-batch.")
    var microBatchSize = 4
    @Option(help: "Also list each model's N sgemm shapes that took the longest in its fastest micro-batch (0: none).")
    var shapes = 0
    @Flag(help: "Also time attention's per-head products of a micro-batch both ways: as dense sgemm (the masked half included) and as the causal kernels the model runs.")
    var attention = false

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard repetitions >= 1 else { throw ValidationError("--repetitions \(repetitions): it must be at least 1") }
        guard rounds >= 1 && rounds <= 100 else { throw ValidationError("--rounds \(rounds): it must be in 1...100") }
        guard shapes >= 0 else { throw ValidationError("--shapes \(shapes): it must be 0 (none) or more") }
        if let bad = wideHidden.first(where: { $0 < 64 || $0 % 64 != 0 }) {
            throw ValidationError("--wide-hidden \(bad): must be a positive multiple of 64 (the head width)")
        }
        // The flags by name; the rest of each model's shape is the benchmark's own, said in words.
        let naming: ModelField.Naming = { field, value in
            switch field {
            case .sequenceLength: "--seq-len \(value)"
            case .microBatchSize: "--micro-batch-size \(value)"
            default: ModelField.plainNaming(field, value)
            }
        }
        for (name, c) in models {
            do { try c.validate(naming: naming) } catch {
                throw ValidationError("\(name): \(error)")
            }
        }
    }

    /// The default training model and the wider ones, named for the table.
    private var models: [(String, ModelConfiguration)] {
        [("default h128", ModelConfiguration(sequenceLength: sequenceLength, microBatchSize: microBatchSize))]
            + wideHidden.map { h in
                ("wide h\(h)", ModelConfiguration(
                    hidden: h, heads: h / 64, layers: 2, moeLayers: [1], experts: 8, expertHidden: h, topK: 2,
                    groups: 4, topKGroups: 2, sequenceLength: sequenceLength, microBatchSize: microBatchSize))
            }
    }

    func run() throws {
        try ComputeSetup.configure()
        // Rounds alternate the yardstick and the models, so that a machine that slows down or
        // speeds up (a shared VM, turbo) moves both sides of the ratio alike; the best of every
        // round counts on both sides.
        var sgemm = 0.0, peak = 0.0
        var results = models.map { _ in ModelTiming() }
        for _ in 0..<rounds {
            sgemm = max(sgemm, SgemmProbe.gflops(n: 1024))
            peak = max(peak, MultiplyAddPeakProbe.gflops(seconds: 0.1))
            for (k, (_, c)) in models.enumerated() { results[k].keepFaster(try measure(c)) }
        }
        print(String(format: "sgemm n=1024: %.1f GFLOP/s (OpenBLAS %@, threads %d), %.2f of the core's multiply-add peak (%.1f GFLOP/s); %@ lane kernels; best of %d alternating rounds; %@",
                     sgemm, BLAS.coreName, BLAS.threadCount, sgemm / peak, peak, LaneKernels.name, rounds, cpuModelName()))
        var rows = [["model", "params", "tokens", "F ms", "B ms", "W ms", "F GF/s", "B GF/s", "W GF/s", "all GF/s", "ratio",
                     "BLAS share", "BLAS GF/s", "BLAS ratio"]]
        for (k, (name, c)) in models.enumerated() {
            let r = results[k]
            let flops = FlopCount(c)
            let f = flops.forward / r.f / 1e9, b = flops.backwardInput / r.b / 1e9, w = flops.backwardWeight / r.w / 1e9
            let all = flops.total / (r.f + r.b + r.w) / 1e9
            rows.append([name, String(r.parameters), String(c.tokensPerMicroBatch)]
                        + [r.f * 1e3, r.b * 1e3, r.w * 1e3, f, b, w, all].map { decimal($0, 1) } + [decimal(all / sgemm, 2)]
                        + [decimal(r.blasShare, 2), decimal(r.blasGflops, 1), decimal(r.blasGflops / sgemm, 2)])
        }
        print(renderTable(rows, textColumns: 1), terminator: "")
        if attention { printAttentionProducts() }
        guard shapes > 0 else { return }
        for (k, (name, _)) in models.enumerated() {
            let r = results[k], blas = r.byShape.values.reduce(0) { $0 + $1.seconds }
            print("\n\(name): the sgemm shapes that took longest in the fastest micro-batch (m x n x k; N or T: each operand as stored or transposed)")
            var rows = [["shape", "calls", "ms", "BLAS share", "GF/s", "of n=1024"]]
            for (shape, work) in r.byShape.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(shapes) {
                let gflops = work.flops / work.seconds / 1e9
                rows.append([shape.description, String(work.calls), decimal(work.seconds * 1e3, 2), decimal(work.seconds / blas, 3),
                             decimal(gflops, 1), decimal(gflops / sgemm, 2)])
            }
            print(renderTable(rows, textColumns: 1), terminator: "")
        }
    }

    /// Each model's attention products, dense against causal, the fastest of `repetitions` x
    /// `rounds` turns each.
    private func printAttentionProducts() {
        for (name, c) in models {
            let baseline = LaneKernels.name == "generic" ? " (with the generic lane kernels the model runs sgemm for these too)" : ""
            print("\n\(name): attention's products for all \(c.microBatchSize * c.heads) (sequence, head) pairs, dense sgemm against the causal kernels\(baseline)")
            var rows = [["product", "per head", "sgemm ms", "causal ms", "causal / sgemm"]]
            var dense = 0.0, causal = 0.0
            for timing in AttentionProducts.measure(c, repetitions: repetitions * rounds) {
                rows.append([timing.product, timing.shape, decimal(timing.dense * 1e3, 3), decimal(timing.causal * 1e3, 3),
                             decimal(timing.causal / timing.dense, 2)])
                dense += timing.dense
                causal += timing.causal
            }
            rows.append(["all six", "", decimal(dense * 1e3, 3), decimal(causal * 1e3, 3), decimal(causal / dense, 2)])
            print(renderTable(rows, textColumns: 2), terminator: "")
        }
    }

    /// One model's measurement: the fastest F, B and W of a micro-batch, and the micro-batch whose
    /// F + B + W was fastest, with what its sgemm calls took.
    private struct ModelTiming {
        var parameters = 0
        var f = Double.infinity, b = Double.infinity, w = Double.infinity
        var fastest = Double.infinity  // F + B + W of that micro-batch
        var blasShare = 0.0            // its share inside sgemm
        var blasGflops = 0.0           // sgemm's GFLOP/s there
        var byShape: [SgemmAccounting.Shape: SgemmAccounting.Work] = [:]  // with --shapes

        /// The faster of each pass, and the faster micro-batch with its sgemm figures.
        mutating func keepFaster(_ other: ModelTiming) {
            parameters = other.parameters
            f = min(f, other.f)
            b = min(b, other.b)
            w = min(w, other.w)
            if other.fastest < fastest { (fastest, blasShare, blasGflops, byShape) = (other.fastest, other.blasShare, other.blasGflops, other.byShape) }
        }
    }

    /// `repetitions` micro-batches of `c` after one to warm up, each F, B and W timed.
    private func measure(_ c: ModelConfiguration) throws -> ModelTiming {
        let stage = Stage(index: 0, partition: try StagePartition(layers: c.layers, stages: 1), configuration: c, seed: 1)
        var rng = SplitMix64(seed: 2)
        let tokens = (0..<c.tokensPerMicroBatch).map { _ in rng.nextInt(below: 256) }
        let input = Tensor(shape: [tokens.count], scalars: tokens.map(Float.init))
        let targets = tokens.map { ($0 + 1) % 256 }
        let lossGradient = Tensor(shape: [1], scalars: [1])
        var timing = ModelTiming()
        timing.parameters = stage.parameterCount
        defer { SgemmAccounting.stop() }
        for mb in 0...repetitions {  // micro-batch 0 warms up and is not counted
            SgemmAccounting.start(byShape: shapes > 0)
            let t0 = ContinuousClock.now
            _ = stage.forward(mb, input, targets: targets)
            let t1 = ContinuousClock.now
            _ = stage.backwardInput(mb, lossGradient)
            let t2 = ContinuousClock.now
            stage.backwardWeight(mb)
            let t3 = ContinuousClock.now
            guard mb > 0 else { continue }
            var this = ModelTiming()
            this.parameters = timing.parameters
            (this.f, this.b, this.w, this.fastest) = ((t1 - t0).inSeconds, (t2 - t1).inSeconds, (t3 - t2).inSeconds, (t3 - t0).inSeconds)
            this.blasShare = SgemmAccounting.seconds / this.fastest
            this.blasGflops = SgemmAccounting.flops / SgemmAccounting.seconds / 1e9
            this.byShape = SgemmAccounting.byShape
            timing.keepFaster(this)
        }
        return timing
    }
}
