import ArgumentParser
import Foundation
import Model
import Tensor

/// `dualpipe bench blas`: single-core sgemm speed, the ceiling for the model's compute.
struct BenchBLASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Single-core sgemm GFLOP/s for square matrices.",
        discussion: "Uses one OpenBLAS thread unless OPENBLAS_NUM_THREADS is set.")

    @Option(parsing: .upToNextOption, help: "Matrix sizes n.")
    var sizes: [Int] = [256, 512, 1024, 2048]
    @Option(help: "Seconds spent timing each size; the best repetition counts.")
    var seconds = 0.5

    func validate() throws {
        for n in sizes {
            guard n >= 1 else { throw ValidationError("--sizes \(n): a matrix size must be at least 1") }
            // Three n x n float matrices (A, B, C), estimated in Double so that n * n cannot overflow.
            let bytes = 3 * 4 * Double(n) * Double(n)
            if let memory = PhysicalMemory.total, bytes > Double(memory) {
                throw ValidationError("--sizes \(n): three \(n) x \(n) float matrices need \(PhysicalMemory.formatted(bytes)); this machine has \(PhysicalMemory.formatted(Double(memory))) (MemTotal)")
            }
        }
        guard seconds > 0 && seconds.isFinite else { throw ValidationError("--seconds \(seconds): the time per size must be a finite number of seconds > 0") }
    }

    func run() throws {
        try ComputeSetup.configure()
        print("OpenBLAS: \(BLAS.configuration), threads \(BLAS.threadCount)")
        print("      n   GFLOP/s")
        for n in sizes {
            print(String(format: "%7d  %8.1f", n, SgemmProbe.gflops(n: n, seconds: seconds)))
        }
    }
}
