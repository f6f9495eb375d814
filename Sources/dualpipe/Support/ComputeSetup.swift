import ArgumentParser
import Foundation
import Tensor

/// Process settings for every rank-running command (`env`, `train`, `bench`), made before any
/// work and before MPI starts: the OpenBLAS kernels for this CPU and huge pages for the heap
/// (which may restart the program, once), the lane kernels a user asked for, one BLAS thread,
/// Open MPI yielding idle ranks' cores where Slurm started more ranks than a node has
/// (`IdleYield`), TCP over IPv4 alone under Open MPI 5 (`TCPAddressFamily`), and a heap that keeps
/// what it frees.
enum ComputeSetup {
    /// DUALPIPE_LANE_KERNELS names a set this rank's CPU does not run. Each rank judges its own
    /// CPU (the nodes of a job may differ), so each rank that cannot says so itself.
    struct UnsupportedLaneKernels: Error, CustomStringConvertible {
        var requested: String
        var description: String {
            "\(LaneKernels.environmentVariable)=\(requested): this CPU runs the lane kernels \(LaneKernels.supported.joined(separator: ", ")) only"
        }
    }

    /// OpenBLAS loaded kernels (named by OPENBLAS_CORETYPE) whose instructions this rank's CPU
    /// lacks: they would stop the rank with an illegal instruction at its first product. Each rank
    /// judges its own CPU, as for the lane kernels.
    struct UnsupportedBLASCore: Error, CustomStringConvertible {
        var core: String
        var missing: [String]
        var runnable: [String]
        var description: String {
            "OpenBLAS runs its \(core) kernels (OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")), "
                + "whose instructions need the CPU flags \(missing.joined(separator: ", ")), which this CPU (\(cpuDescription())) lacks: "
                + "they would stop at their first product with an illegal instruction; unset OPENBLAS_CORETYPE, and each rank "
                + "runs the kernels chosen for its own node's CPU"
                + (runnable.isEmpty ? "" : ", or name kernels this CPU runs, the widest: \(runnable.prefix(3).joined(separator: ", "))")
        }
    }

    /// One OpenBLAS thread unless OPENBLAS_NUM_THREADS says otherwise (a pipeline rank is one
    /// core), and keep freed activation buffers in the heap instead of returning them to the
    /// kernel: every micro-batch allocates the same large tensors again, and fresh pages cost a
    /// page fault and a zero-fill each.
    static func configure() throws {
        var restart = BLASCoreChoice.changes
        if let tunables = HugePages.tunables(adding: ProcessInfo.processInfo.environment["GLIBC_TUNABLES"], kernelMode: HugePages.kernelMode) {
            restart["GLIBC_TUNABLES"] = tunables
        }
        ProcessRestart.apply(restart)
        let flags = BLASCoreChoice.cpuFlags
        // Without the flags (no /proc) nothing can be judged.
        if !flags.isEmpty, case let missing = BLASCore.missingFlags(core: BLAS.coreName, cpuFlags: flags), !missing.isEmpty {
            throw UnsupportedBLASCore(core: BLAS.coreName, missing: missing, runnable: BLASCore.runnableFamilies(cpuFlags: flags))
        }
        if let request = LaneKernels.requested {
            switch request.problem {
            case nil: break
            case .unknown:
                throw ValidationError("\(LaneKernels.environmentVariable)=\(request.name): it must be one of \(LaneKernels.all.joined(separator: ", ")), or unset for the widest set this CPU runs")
            case .unsupported: throw UnsupportedLaneKernels(requested: request.name)
            }
        }
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { BLAS.setThreadCount(1) }
        IdleYield.configure()
        TCPAddressFamily.configure()
        GlibcHeap.keepFreedMemory()
    }

    /// The kernels a run computes with, for its first line: OpenBLAS's family and how it was
    /// chosen, the instruction set of the lane kernels (softmax, activations), and the pages its
    /// tensors live on.
    static var kernelsDescription: String {
        "\(BLASCoreChoice.description), \(LaneKernels.name) lane kernels" + (LaneKernels.requested == nil ? "" : " (\(LaneKernels.environmentVariable))")
            + ", \(HugePages.description)"
    }
}
