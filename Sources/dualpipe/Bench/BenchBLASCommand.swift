import ArgumentParser
import Foundation
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
        if let bad = sizes.first(where: { $0 < 1 }) { throw ValidationError("--sizes: \(bad) is not a positive matrix size") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }

    func run() throws {
        ComputeSetup.configure()
        print("OpenBLAS: \(BLAS.configuration), threads \(BLAS.threadCount)")
        print("      n   GFLOP/s")
        for n in sizes {
            print(String(format: "%7d  %8.1f", n, SgemmProbe.gflops(n: n, seconds: seconds)))
        }
    }
}
