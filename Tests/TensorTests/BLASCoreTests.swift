import Tensor
import Testing

@Suite struct BLASCoreTests {
    static let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]

    @Test func genericKernelsOnAVX512GetSkylakeX() {
        #expect(BLASCore.recommended(cpuFlags: Self.avx512, loaded: "Prescott") == "SkylakeX")
    }

    @Test func genericKernelsOnAVX2GetHaswell() {
        #expect(BLASCore.recommended(cpuFlags: ["avx", "avx2", "fma"], loaded: "Prescott") == "Haswell")
        // AVX-512 F alone (no BW/DQ/VL, as on Knights Landing) is not enough for SkylakeX.
        #expect(BLASCore.recommended(cpuFlags: ["avx2", "fma", "avx512f"], loaded: "Nehalem") == "Haswell")
    }

    @Test func recognisedKernelsAreKept() {
        for core in ["SkylakeX", "Haswell", "Zen", "Cooperlake", "SapphireRapids"] {
            #expect(BLASCore.recommended(cpuFlags: Self.avx512, loaded: core) == nil, "\(core)")
        }
        #expect(BLASCore.recommended(cpuFlags: ["sse2", "avx"], loaded: "Prescott") == nil)
    }

    @Test func kernelsNeedTheirInstructions() {
        let firstZen: Set<String> = ["sse2", "avx", "avx2", "fma"]
        #expect(BLASCore.missingFlags(core: "SkylakeX", cpuFlags: firstZen) == ["avx512f", "avx512bw", "avx512dq", "avx512vl"])
        #expect(BLASCore.missingFlags(core: "Haswell", cpuFlags: firstZen).isEmpty)
        #expect(BLASCore.missingFlags(core: "Zen", cpuFlags: ["sse2", "avx"]) == ["avx2", "fma"])
        #expect(BLASCore.missingFlags(core: "Cooperlake", cpuFlags: Self.avx512) == ["avx512_bf16"])
        #expect(BLASCore.missingFlags(core: "SapphireRapids", cpuFlags: Self.avx512.union(["avx512_bf16"])) == ["amx_bf16"])
        // Families not in the table (SSE kernels, AMD's FMA4 ones) are not judged.
        #expect(BLASCore.missingFlags(core: "Prescott", cpuFlags: []).isEmpty)
        #expect(BLASCore.missingFlags(core: "Bulldozer", cpuFlags: ["sse2"]).isEmpty)
    }

    @Test func runnableFamiliesWidestFirst() {
        #expect(BLASCore.runnableFamilies(cpuFlags: ["sse2", "avx", "avx2", "fma"]) == ["Haswell", "Zen", "Sandybridge"])
        #expect(BLASCore.runnableFamilies(cpuFlags: Self.avx512) == ["SkylakeX", "Haswell", "Zen", "Sandybridge"])
        #expect(BLASCore.runnableFamilies(cpuFlags: ["sse2"]).isEmpty)
    }

    @Test func flagsComeFromTheFirstFlagsLine() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: none\n\nprocessor\t: 1\nflags\t\t: other\n"
        #expect(BLASCore.cpuFlags(cpuinfo: cpuinfo) == ["fpu", "sse2", "avx2", "fma"])
        #expect(BLASCore.cpuFlags(cpuinfo: "") == [])
    }
}
