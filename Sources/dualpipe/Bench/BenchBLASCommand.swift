import ArgumentParser
import Foundation
import Model
import Tensor

/// `dualpipe bench blas`: single-core sgemm speed, the ceiling for the model's compute.
struct BenchBLASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Single-core sgemm GFLOP/s for square matrices, beside the core's multiply-add peak.",
        discussion: "Uses one OpenBLAS thread unless OPENBLAS_NUM_THREADS is set. The peak is timed first: independent multiply-add chains in the widest lanes this CPU runs (whatever DUALPIPE_LANE_KERNELS asks), touching no memory; each size's `of peak` is its sgemm GFLOP/s over it. With --pages, also the products of one --model mlp block on buffers the kernel backs with 4 KiB pages and on 2 MiB transparent huge pages (madvise), alternating in this process: what dualpipe's huge pages (glibc.malloc.hugetlb=1, `dualpipe env`'s pages column) are worth here.")

    @Option(parsing: .upToNextOption, help: "Matrix sizes n.")
    var sizes: [Int] = [256, 512, 1024, 2048]
    @Option(help: "Seconds spent timing each size; the best repetition counts.")
    var seconds = 0.5
    @Flag(help: "Also time one --model mlp block's four products on 4 KiB and on 2 MiB pages, alternately.")
    var pages = false
    @Option(help: "With --pages: the block's hidden width; its activations are 768 x hidden (3 x 256 rows), its inner width 4 x hidden.")
    var hidden = 512
    @Option(help: "With --pages: alternations of the two kinds of page; medians count.")
    var rounds = 60

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        for n in sizes {
            guard n >= 1 else { throw ValidationError("--sizes \(n): a matrix size must be at least 1") }
            // Three n x n float matrices (A, B, C), estimated in Double so that n * n cannot overflow.
            let bytes = 3 * 4 * Double(n) * Double(n)
            if let memory = PhysicalMemory.limit, bytes > Double(memory.bytes) {
                throw ValidationError("--sizes \(n): three \(n) x \(n) float matrices need \(PhysicalMemory.formatted(bytes)); this machine has \(PhysicalMemory.formatted(Double(memory.bytes))) (\(memory.source))")
            }
        }
        guard seconds > 0 && seconds.isFinite else { throw ValidationError("--seconds \(seconds): the time per size must be a finite number of seconds > 0") }
        guard (1...8192).contains(hidden) else { throw ValidationError("--hidden \(hidden) must be in 1...8192") }
        guard (1...10_000).contains(rounds) else { throw ValidationError("--rounds \(rounds) must be in 1...10000") }
    }

    func run() throws {
        try ComputeSetup.configure()
        print("OpenBLAS: \(BLAS.configuration), threads \(BLAS.threadCount)")
        let peak = MultiplyAddPeakProbe.gflops(seconds: seconds)
        print(String(format: "multiply-add peak of one core: %.1f GFLOP/s (%@ lanes, %d independent chains)", peak, LaneKernels.peakSet, LaneKernels.peakChains))
        print("      n   GFLOP/s  of peak")
        for n in sizes {
            let gflops = SgemmProbe.gflops(n: n, seconds: seconds)
            print(String(format: "%7d  %8.1f  %7.2f", n, gflops, gflops / peak))
        }
        guard pages else { return }
        let block = PageProbe.Block(tokens: 768, hidden: hidden)
        let (small, huge) = PageProbe.time(block, rounds: rounds)
        print("one --model mlp block's four products (768 x \(hidden) activations, \(hidden) x \(block.inner) weights), median of \(rounds) alternations; this kernel's THP mode: \(HugePages.kernelMode ?? "unknown")")
        print("pages         ms   GFLOP/s")
        print(String(format: "4 KiB  %8.2f  %8.1f", small * 1e3, block.flops / small / 1e9))
        print(String(format: "2 MiB  %8.2f  %8.1f", huge * 1e3, block.flops / huge / 1e9))
        print(String(format: "huge / 4 KiB time: %.3f", huge / small))
    }
}
