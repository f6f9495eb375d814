import ArgumentParser
import MPI
import Tensor

/// `dualpipe env`: what each rank of the job sees, one line per rank, printed by rank 0 in rank order.
/// The first thing to run on a new cluster: it shows where ranks landed and which libraries they loaded.
struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print each rank's place in the job and its MPI, lane-kernel and OpenBLAS setup.",
        discussion: """
            Run it under mpirun, e.g. `mpirun -np 8 dualpipe env`. Each rank reports its rank and the job \
            size, the build it runs (`git describe` of its source; `dualpipe --version` adds the \
            commit's date and a fingerprint of the sources, and a line after the table names the \
            builds where ranks run different ones), its node's name and index, the MPI thread level provided, the MPI library version, \
            Open MPI's point-to-point layer (pml: ob1, or ucx on InfiniBand and RoCE clusters), the \
            single copy of ob1's shared-memory transport (cma, or none where a container forbids it or \
            a user turned it off; - where that transport is not loaded or ob1 not used; under Open \
            MPI 5 the smsc component that gives it), the \
            instruction set of the lane kernels (softmax and activations: avx512, avx2 or generic), \
            the pages of its heap (huge where glibc.malloc.hugetlb=1 and the kernel's transparent huge \
            pages allow, else 4k), OpenBLAS's thread count and the CPUs the launcher lets the rank run \
            on (its affinity mask: 1 where mpirun or srun bound it to a core; OpenBLAS runs no more \
            threads than these, and a line after the table warns where OPENBLAS_NUM_THREADS asked \
            for more), OpenBLAS's build configuration, and the \
            node's CPU with its family and model.
            """
    )

    @Option(help: "MPI thread level to request: single, funneled, serialized or multiple.")
    var threadLevel: ThreadLevelOption = .funneled

    @Flag(name: .customLong("blas-core"), help: "Print only the OpenBLAS kernel family in use (after dualpipe's own choice for this CPU) and exit, without MPI: `export OPENBLAS_CORETYPE=$(dualpipe env --blas-core)` gives other programs the same kernels.")
    var blasCore = false

    func run() throws {
        try ComputeSetup.configure()
        if blasCore {
            print(BLAS.coreName)
            return
        }
        Environment.run(requestedThreadLevel: threadLevel.level) { environment in
            let world = environment.world
            let layout = try world.splitByNode()
            let library = try environment.libraryVersion.split(separator: ",").first.map(String.init) ?? "unknown"
            let layer = PointToPointLayer.current()
            // As wide as the longest build name of any rank (a tag, -dirty), so that the columns line up.
            let buildWidth = max(12, try world.allreduce(Build.describe.count, op: .max))
            let threads = try BLASThreadBinding.gather(world)
            let mine = threads[world.rank]
            if world.rank == 0 {
                print("rank  size  " + "build".padded(buildWidth) + "  node (index/count)      thread level provided  MPI library      pml  single copy  lane kernels  pages  OpenBLAS threads  CPUs allowed  OpenBLAS configuration  CPU")
            }
            try world.printInRankOrder([
                "\(world.rank)".padded(4), "\(world.size)".padded(4), Build.describe.padded(buildWidth),
                "\(try environment.processorName) (\(layout.nodeIndex)/\(layout.nodeCount))".padded(22),
                environment.providedThreadLevel.description.padded(21), library.padded(15), layer.column.padded(3),
                (layer.usesByteTransports ? SharedMemoryCopy.column : "-").padded(11),
                LaneKernels.name.padded(12), HugePages.column.padded(5), "\(mine.threads)".padded(16),
                (mine.cpus.map(String.init) ?? "?").padded(12), BLAS.configuration.padded(22), cpuModelName(),
            ].joined(separator: "  "))
            if let warning = BLASThreadBinding.warning(threads), world.rank == 0 {
                print(warning)
            }
            // The table shows git's name of each build; two edits of one commit look alike there.
            if let mismatch = try Build.mismatch(environment), world.rank == 0 {
                print("warning: \(mismatch); a job on these ranks would be refused")
            }
        }
    }
}
