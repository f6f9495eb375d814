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

    @Test func flagsComeFromTheFirstFlagsLine() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: none\n\nprocessor\t: 1\nflags\t\t: other\n"
        #expect(BLASCore.cpuFlags(cpuinfo: cpuinfo) == ["fpu", "sse2", "avx2", "fma"])
        #expect(BLASCore.cpuFlags(cpuinfo: "") == [])
    }
}
