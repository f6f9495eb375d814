// swift-tools-version:6.0
// The table of contents of swift-dualpipe. Arrows point one way:
//   dualpipe -> Pipeline -> {Model, Schedule, MPI};  dualpipe -> {EPLB, COldestSymbols};  Model -> Tensor -> {CBLAS, CLaneKernels};  MPI -> CMPI.
// Schedule and EPLB depend on nothing of ours.
import PackageDescription

let package = Package(
    name: "swift-dualpipe",
    products: [
        .executable(name: "dualpipe", targets: ["dualpipe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries, one system-library shim each. pkg-config is what makes the headers
        // visible to Swift; a C target with include flags would not.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // The elementwise kernels with exponentials, and AdamW, in C because C can compile one
        // function for several instruction sets (SSE2, AVX2, AVX-512) and pick at run time; Swift
        // cannot. Optimised in debug builds too, so that the unit tests check the vector code
        // that release builds run (its rounding), not an unvectorised -O0 build of it.
        .target(name: "CLaneKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        // The oldest versions of three symbols of glibc and libstdc++ that the static Swift runtime
        // uses, for scripts/bundle's `--wrap` link: a bundle then runs on glibc 2.34 and GCC 11's
        // libstdc++ (RHEL 9). Unused in an ordinary build.
        .target(name: "COldestSymbols"),

        // Libraries.
        .target(name: "MPI", dependencies: ["CMPI"]),
        .target(name: "Tensor", dependencies: ["CBLAS", "CLaneKernels"]),
        .target(name: "Model", dependencies: ["Tensor"]),
        .target(name: "JSONDiagnostics"),
        .target(name: "EPLB", dependencies: ["JSONDiagnostics"]),
        .target(name: "Schedule", dependencies: ["JSONDiagnostics"]),
        .target(name: "Pipeline", dependencies: ["MPI", "Tensor", "Model", "Schedule", "EPLB"]),

        // The command-line program.
        .executableTarget(
            name: "dualpipe",
            dependencies: [
                "MPI", "Tensor", "Model", "EPLB", "Schedule", "Pipeline", "JSONDiagnostics", "COldestSymbols",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildRevision"]
        ),
        // Writes the git revision into the program at build time (`dualpipe --version`).
        .plugin(name: "BuildRevision", capability: .buildTool()),

        // Unit tests (swift test), one target per library.
        .testTarget(name: "MPITests", dependencies: ["MPI"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CLaneKernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Tensor"]),
        .testTarget(name: "EPLBTests", dependencies: ["EPLB"], resources: [.copy("Golden")]),
        .testTarget(name: "ScheduleTests", dependencies: ["Schedule"], resources: [.copy("Golden")]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Model", "Schedule", "Tensor", "MPI"]),
        // The oldest-symbol wrappers of a bundle, called directly (the C++ probe waits on a
        // std::condition_variable through one).
        .target(name: "OldestSymbolsProbe", dependencies: ["COldestSymbols"], path: "Tests/OldestSymbolsProbe"),
        .testTarget(name: "OldestSymbolsTests", dependencies: ["COldestSymbols", "OldestSymbolsProbe"]),
        // The command line's own pure parts (how a launcher's environment is read).
        .testTarget(name: "DualPipeCommandTests", dependencies: ["dualpipe"]),

        // MPI behaviour is tested under real mpirun: scripts/test launches this program at
        // several rank counts; it checks values and exits non-zero on any failure.
        .executableTarget(name: "mpi-checks", dependencies: ["MPI", "Tensor"], path: "Tests/MPIChecks"),
    ]
)
