import Tensor
import Testing

@Suite struct BLASCoreTests {
    static let avx512: Set<String> = ["sse2", "pni", "ssse3", "sse4_1", "avx", "avx2", "fma", "bmi2", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]

    @Test func genericKernelsOnAVX512GetSkylakeX() {
        #expect(BLASCore.recommended(cpuFlags: Self.avx512, loaded: "Prescott") == "SkylakeX")
    }

    @Test func genericKernelsOnAVX2GetHaswell() {
        #expect(BLASCore.recommended(cpuFlags: Self.firstZen, loaded: "Prescott") == "Haswell")
        // AVX-512 F alone (no BW/DQ/VL, as on Knights Landing) is not enough for SkylakeX.
        #expect(BLASCore.recommended(cpuFlags: Self.firstZen.union(["avx512f"]), loaded: "Nehalem") == "Haswell")
        // Nor is AVX-512 without the BMI2 its kernels use too: Haswell's kernels run there.
        #expect(BLASCore.recommended(cpuFlags: Self.avx512.subtracting(["bmi2"]), loaded: "Prescott") == "Haswell")
    }

    @Test func recognisedKernelsAreKept() {
        for core in ["SkylakeX", "Haswell", "Zen", "Cooperlake", "SapphireRapids"] {
            #expect(BLASCore.recommended(cpuFlags: Self.avx512, loaded: core) == nil, "\(core)")
        }
        #expect(BLASCore.recommended(cpuFlags: ["sse2", "pni", "ssse3", "sse4_1", "avx"], loaded: "Prescott") == nil)
    }

    /// A first-generation EPYC's flags, as far as the kernels care: no AVX-512, no FMA4 listed
    /// (it runs FMA4 without saying so), no 3DNow! (only its prefetch).
    static let firstZen: Set<String> = ["sse2", "pni", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "bmi2", "3dnowprefetch"]

    @Test func kernelsNeedTheirInstructions() {
        #expect(BLASCore.missingFlags(core: "SkylakeX", cpuFlags: Self.firstZen) == ["avx512f", "avx512bw", "avx512dq", "avx512vl"])
        #expect(BLASCore.missingFlags(core: "Haswell", cpuFlags: Self.firstZen).isEmpty)
        #expect(BLASCore.missingFlags(core: "Zen", cpuFlags: ["pni", "ssse3", "sse4_1", "avx"]) == ["avx2", "fma"])
        #expect(BLASCore.missingFlags(core: "Cooperlake", cpuFlags: Self.avx512) == ["avx512_bf16"])
        #expect(BLASCore.missingFlags(core: "SapphireRapids", cpuFlags: Self.avx512.union(["avx512_bf16"])) == ["amx_bf16"])
        // SkylakeX's code shifts with BMI2 too: AVX-512 alone, as a VM may offer it, is not enough.
        #expect(BLASCore.missingFlags(core: "SkylakeX", cpuFlags: Self.avx512.subtracting(["bmi2"])) == ["bmi2"])
    }

    @Test func olderFamiliesNeedTheirsToo() {
        // Opteron's kernels end with 3DNow!'s femms, which no CPU of today runs (the prefetch
        // flag is not the instruction set); AMD's Bulldozer family multiplies-adds with FMA4.
        #expect(BLASCore.missingFlags(core: "Opteron", cpuFlags: Self.firstZen) == ["3dnow"])
        #expect(BLASCore.missingFlags(core: "Bulldozer", cpuFlags: Self.avx512) == ["fma4"])
        #expect(BLASCore.missingFlags(core: "Piledriver", cpuFlags: ["pni", "ssse3", "sse4_1", "avx", "fma4"]) == ["fma"])
        #expect(BLASCore.missingFlags(core: "Nehalem", cpuFlags: ["sse2", "pni"]) == ["ssse3", "sse4_1"])
        #expect(BLASCore.missingFlags(core: "Prescott", cpuFlags: ["sse2"]) == ["pni"])
        #expect(BLASCore.missingFlags(core: "Prescott", cpuFlags: Self.firstZen).isEmpty)
        // A family newer than the table is not judged.
        #expect(BLASCore.missingFlags(core: "NeoverseN1", cpuFlags: []).isEmpty)
    }

    @Test func runnableFamiliesWidestFirst() {
        let zen = BLASCore.runnableFamilies(cpuFlags: Self.firstZen)
        #expect(Array(zen.prefix(3)) == ["Haswell", "Zen", "Sandybridge"])
        #expect(!zen.contains("Opteron") && !zen.contains("Bulldozer") && zen.contains("Prescott"))
        #expect(Array(BLASCore.runnableFamilies(cpuFlags: Self.avx512).prefix(3)) == ["SkylakeX", "Haswell", "Zen"])
        #expect(BLASCore.runnableFamilies(cpuFlags: ["sse2"]).isEmpty)
    }

    @Test func flagsComeFromTheFirstFlagsLine() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: none\n\nprocessor\t: 1\nflags\t\t: other\n"
        #expect(BLASCore.cpuFlags(cpuinfo: cpuinfo) == ["fpu", "sse2", "avx2", "fma"])
        #expect(BLASCore.cpuFlags(cpuinfo: "") == [])
    }
}
