import CLaneKernels
import Foundation
import Testing
import Tensor

/// Every set of C lane kernels this CPU runs (AVX-512, AVX2 with FMA, and the SSE2 baseline on
/// x86-64), each table entry against its formula in Double, at lengths below, at and past the
/// vector widths (4, 8, 16) and the 16 partial sums. The model's tests see only the widest set;
/// these are what keep the narrower ones, which other machines run, honest.
@Suite struct InstructionSetTests {
    static let lengths = [1, 3, 7, 8, 15, 16, 17, 33, 77, 300]

    /// Values spread like activations, with a few far out: the exponential's clamp at -87 and 88
    /// and Φ's at |x| = 13 are crossed, and the result must stay finite and right there too.
    func values(_ n: Int, seed: UInt64, std: Float = 2) -> [Float] {
        var x = randomTensor([n], seed: seed, std: std).scalars
        for k in stride(from: 5, to: n, by: 11) { x[k] = k % 2 == 0 ? 95 : -95 }
        return x
    }

    func expectClose(_ got: [Float], _ want: [Double], _ tolerance: Double, _ what: String, set: String) {
        #expect(got.count == want.count)
        for k in 0..<min(got.count, want.count) {
            let ok = abs(Double(got[k]) - want[k]) <= tolerance * max(1, abs(want[k]))
            #expect(ok, "\(set) \(what)[\(k)] of \(got.count): \(got[k]), want \(want[k])")
        }
    }

    func sigma(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    func phi(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.squareRoot())) }
    func density(_ x: Double) -> Double { Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }

    func table(_ name: String) -> dp_lane_kernels {
        guard let set = dp_lane_kernels_named(name) else { fatalError("\(name) is listed as supported but has no table") }
        return set.pointee
    }

    @Test func theWidestSupportedSetIsTheOneInUse() {
        let supported = LaneKernels.supported
        #expect(supported.last == "generic", "the baseline runs everywhere: \(supported)")
        // Unless DUALPIPE_LANE_KERNELS names another that this CPU runs.
        let requested = LaneKernels.requested.flatMap { $0.problem == nil ? $0.name : nil }
        #expect(LaneKernels.name == requested ?? supported.first)
        #expect(dp_lane_kernels_named("avx1024") == nil)
        #expect(dp_lane_kernels_named(nil) == nil)
        for name in supported { #expect(String(cString: table(name).name) == name) }
    }

    /// DUALPIPE_LANE_KERNELS: a name that is no set, and a set the CPU does not run, are told
    /// apart (the first is the same verdict on every rank, the second can differ by node).
    @Test func requestsAreJudgedAgainstTheCPU() {
        #expect(LaneKernels.problem(requesting: "avx1024", supported: LaneKernels.all) == .unknown)
        #expect(LaneKernels.problem(requesting: "AVX2", supported: LaneKernels.all) == .unknown)
        #expect(LaneKernels.problem(requesting: "avx512", supported: ["avx2", "generic"]) == .unsupported)
        #expect(LaneKernels.problem(requesting: "avx2", supported: ["generic"]) == .unsupported)
        #expect(LaneKernels.problem(requesting: "avx2", supported: ["avx2", "generic"]) == nil)
        for name in LaneKernels.supported { #expect(LaneKernels.problem(requesting: name, supported: LaneKernels.supported) == nil) }
    }

    /// The peak probe's chains really run: every chain of every set steps the number of times
    /// asked (a = b = 1 counts up from its start j, exactly in float at these sizes), and each set
    /// keeps twelve registers of its own lanes.
    @Test func multiplyAddChainsStepEveryChain() {
        let lanes = ["generic": 4, "avx2": 8, "avx512": 16]
        for name in LaneKernels.supported {
            let k = table(name), chains = k.peak_chains
            #expect(chains == 12 * lanes[name]!, "\(name): \(chains) chains")
            for iterations in [0, 1, 1000] {
                let want = Float(chains * (chains - 1) / 2 + chains * iterations)
                #expect(k.multiply_add_chains(iterations, 1, 1) == want, "\(name), \(iterations) iterations")
            }
        }
        // The peak is the core's: the widest set's, whatever set is in use.
        #expect(LaneKernels.peakSet == LaneKernels.supported.first)
        #expect(LaneKernels.peakChains == table(LaneKernels.peakSet).peak_chains)
    }

    @Test(arguments: lengths) func softmaxBothWays(n: Int) {
        for name in LaneKernels.supported {
            let k = table(name), scale: Float = 0.7
            let x = values(n, seed: UInt64(200 + n), std: 4).map { $0 / 2 }  // ±47.5: beyond the clamp once scaled
            var row = x, maximum: Float = 0
            let sum = k.softmax(&row, n, scale, &maximum)
            let scaled = x.map { Double($0) * Double(scale) }, m = scaled.max()!
            let e = scaled.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
            expectClose(row, e.map { $0 / total }, 1e-5, "softmax", set: name)
            expectClose([maximum, sum], [m, total], 1e-5, "(maximum, sum)", set: name)

            let dp = values(n, seed: UInt64(210 + n), std: 1)
            var d = dp
            k.softmax_backward(row, &d, n, scale)
            let inner = (0..<n).reduce(0.0) { $0 + Double(row[$1]) * Double(dp[$1]) }
            let wantD = (0..<n).map { j -> Double in Double(scale) * Double(row[j]) * (Double(dp[j]) - inner) }
            expectClose(d, wantD, 1e-5, "softmax gradient", set: name)
        }
    }

    /// Rows shorter than a group run padded to whole groups with future positions: those must
    /// come out exactly 0 both ways, and the live entries as if the row were alone.
    @Test(arguments: [1, 5, 16, 17, 40]) func causalSoftmaxBothWays(t: Int) {
        for name in LaneKernels.supported {
            let k = table(name), scale: Float = 0.3, count = 2
            let s = values(count * t * t, seed: UInt64(220 + t), std: 4)
            let dp = values(count * t * t, seed: UInt64(230 + t), std: 1)
            var p = s, d = dp
            k.causal_softmax(&p, count, t, scale)
            k.causal_softmax_backward(p, &d, count, t, scale)
            var wantP: [Double] = [], wantD: [Double] = []
            for r in 0..<(count * t) {
                let i = r % t, base = r * t
                let probabilities = softmaxInDouble((0...i).map { Double(s[base + $0]) * Double(scale) })
                let inner = (0...i).reduce(0.0) { $0 + probabilities[$1] * Double(dp[base + $1]) }
                for j in 0..<t {
                    wantP.append(j <= i ? probabilities[j] : 0)
                    wantD.append(j <= i ? Double(scale) * probabilities[j] * (Double(dp[base + j]) - inner) : 0)
                }
            }
            expectClose(p, wantP, 1e-5, "causal softmax", set: name)
            expectClose(d, wantD, 1e-5, "causal softmax gradient", set: name)
            for r in 0..<(count * t) {
                for j in (r % t + 1)..<t {
                    #expect(p[r * t + j] == 0 && d[r * t + j] == 0, "\(name): future position \(j) of row \(r % t) is not 0")
                }
            }
        }
    }

    @Test(arguments: lengths) func swiGLUBothWays(n: Int) {
        for name in LaneKernels.supported {
            let k = table(name)
            let a = values(n, seed: UInt64(300 + n)), b = values(n, seed: UInt64(301 + n), std: 1)
            let dh = values(n, seed: UInt64(302 + n), std: 1)
            var h = [Float](repeating: .nan, count: n), da = h, db = h
            k.swiglu(a, b, &h, n)
            k.swiglu_backward(a, b, dh, &da, &db, n)
            var wantH: [Double] = [], wantDa: [Double] = [], wantDb: [Double] = []
            for j in 0..<n {
                let x = Double(a[j]), u = Double(b[j]), g = Double(dh[j]), s = sigma(x)
                wantH.append(x * s * u)
                wantDa.append(g * u * s * (1 + x * (1 - s)))
                wantDb.append(g * x * s)
            }
            expectClose(h, wantH, 1e-5, "swiglu", set: name)
            expectClose(da, wantDa, 1e-5, "gate gradient", set: name)
            expectClose(db, wantDb, 1e-5, "up gradient", set: name)
        }
    }

    @Test(arguments: lengths) func geluThreeWays(n: Int) {
        for name in LaneKernels.supported {
            let k = table(name)
            let x = values(n, seed: UInt64(400 + n)), dy = values(n, seed: UInt64(401 + n), std: 1)
            var y = [Float](repeating: .nan, count: n), inPlace = x, derivative = y, d = dy
            k.gelu(x, &y, n)
            k.gelu_with_derivative(&inPlace, &derivative, n)
            k.gelu_backward(x, &d, n)
            let slope = x.map { phi(Double($0)) + Double($0) * density(Double($0)) }
            expectClose(y, x.map { Double($0) * phi(Double($0)) }, 1e-6, "gelu", set: name)
            expectClose(inPlace, x.map { Double($0) * phi(Double($0)) }, 1e-6, "gelu in place", set: name)
            expectClose(derivative, slope, 1e-6, "gelu derivative", set: name)
            expectClose(d, (0..<n).map { Double(dy[$0]) * slope[$0] }, 1e-6, "gelu gradient", set: name)
        }
    }

    @Test(arguments: lengths) func siluAndSigmoid(n: Int) {
        for name in LaneKernels.supported {
            let k = table(name)
            let x = values(n, seed: UInt64(500 + n)), dy = values(n, seed: UInt64(501 + n), std: 1)
            var y = [Float](repeating: .nan, count: n), s = y, d = dy
            k.silu(x, &y, n)
            k.sigmoid(x, &s, n)
            k.silu_backward(x, &d, n)
            var wantY: [Double] = [], wantS: [Double] = [], wantD: [Double] = []
            for j in 0..<n {
                let v = Double(x[j]), sv = sigma(v)
                wantY.append(v * sv)
                wantS.append(sv)
                wantD.append(Double(dy[j]) * sv * (1 + v * (1 - sv)))
            }
            expectClose(y, wantY, 1e-5, "silu", set: name)
            expectClose(s, wantS, 1e-6, "sigmoid", set: name)
            expectClose(d, wantD, 1e-5, "silu gradient", set: name)
        }
    }

    /// RMSNorm both ways and its gain gradient, every set against the formulas in Double, over
    /// three rows of each width.
    @Test(arguments: lengths) func rmsNormThreeWays(width: Int) {
        let rows = 3, epsilon: Float = 1e-5
        let x = values(rows * width, seed: UInt64(1000 + width), std: 1)
        let g = values(width, seed: UInt64(1001 + width), std: 1)
        let dy = values(rows * width, seed: UInt64(1002 + width), std: 1)
        let dg0 = values(width, seed: UInt64(1003 + width), std: 1)
        var wantY: [Double] = [], wantInverse: [Double] = [], wantDx: [Double] = [], wantDg = dg0.map(Double.init)
        for r in 0..<rows {
            let row = (0..<width).map { Double(x[r * width + $0]) }
            let inverse = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(width) + Double(epsilon)).squareRoot()
            wantInverse.append(inverse)
            let gdy = (0..<width).map { Double(g[$0]) * Double(dy[r * width + $0]) }
            let c = (0..<width).reduce(0.0) { $0 + gdy[$1] * row[$1] } * inverse * inverse / Double(width)
            for j in 0..<width {
                wantY.append(Double(g[j]) * row[j] * inverse)
                wantDx.append(inverse * (gdy[j] - row[j] * c))
                wantDg[j] += Double(dy[r * width + j]) * row[j] * inverse
            }
        }
        for name in LaneKernels.supported {
            let k = table(name)
            var y = [Float](repeating: .nan, count: rows * width), inverse = [Float](repeating: .nan, count: rows)
            var dx = y, dg = dg0
            k.rms_norm(x, g, &y, &inverse, rows, width, epsilon)
            k.rms_norm_backward(x, inverse, g, dy, &dx, rows, width)
            k.rms_norm_gain_gradient(x, inverse, dy, &dg, rows, width)
            // The rows hold ±95 among values near 1: errors scale with the row's magnitude.
            expectClose(inverse, wantInverse, 1e-5, "rms norm 1 / rms", set: name)
            expectClose(y, wantY, 1e-5, "rms norm", set: name)
            expectClose(dx, wantDx, 1e-4, "rms norm input gradient", set: name)
            expectClose(dg, wantDg, 1e-4, "rms norm gain gradient", set: name)
        }
    }

    /// The causal products against the triple loop in Double, in every set: each shape, with
    /// `a` stored as is and transposed, rows and columns at and off the blockings (rows of 1, 2,
    /// 3 and 6, vectors of 16 and 32, a tail of fewer than 16), inside wider buffers whose other
    /// elements must stay untouched.
    @Test(arguments: [1, 5, 16, 17, 40]) func causalProductsEveryShape(t: Int) {
        let shapes: [(dp_causal_shape, String)] = [(DP_CAUSAL_COLUMNS_TO_ROW, "columns to row"),
                                                   (DP_CAUSAL_TERMS_TO_ROW, "terms to row"),
                                                   (DP_CAUSAL_TERMS_FROM_ROW, "terms from row")]
        for d in [3, 16, 24, 40] {
            for (shape, shapeName) in shapes {
                for transposeA in [false, true] {
                    // op(a) is [t, k], b is [k, n]: scores-like products are [t, d] · [d, t], the others [t, t] · [t, d].
                    let k = shape == DP_CAUSAL_COLUMNS_TO_ROW ? d : t, n = shape == DP_CAUSAL_COLUMNS_TO_ROW ? t : d
                    var opA = values(t * k, seed: UInt64(700 + t * 10 + d), std: 1)
                    if shape == DP_CAUSAL_TERMS_TO_ROW { for i in 0..<t { for j in 0..<k where j > i { opA[i * k + j] = 0 } } }
                    if shape == DP_CAUSAL_TERMS_FROM_ROW { for i in 0..<t { for j in 0..<k where j < i { opA[i * k + j] = 0 } } }
                    // Stored with 5 spare columns a row: as is [t, k + 5], or transposed [k, t + 5].
                    let aStride = (transposeA ? t : k) + 5
                    var stored = [Float](repeating: .nan, count: (transposeA ? k : t) * aStride)
                    for i in 0..<t { for j in 0..<k { stored[transposeA ? j * aStride + i : i * aStride + j] = opA[i * k + j] } }
                    let bStride = n + 3, cStride = n + 7
                    var b = [Float](repeating: .nan, count: k * bStride)
                    let bValues = values(k * n, seed: UInt64(800 + t * 10 + d), std: 1)
                    for r in 0..<k { for j in 0..<n { b[r * bStride + j] = bValues[r * n + j] } }
                    for name in LaneKernels.supported {
                        let kernels = table(name)
                        var c = [Float](repeating: -7, count: t * cStride)
                        kernels.causal_product(stored, transposeA ? 1 : aStride, transposeA ? aStride : 1, b, bStride,
                                               &c, cStride, t, n, k, shape)
                        for i in 0..<t {
                            let written = shape == DP_CAUSAL_COLUMNS_TO_ROW ? min(n, (i + 16) / 16 * 16) : n
                            for j in 0..<n where j < written {
                                let terms = (0..<k).map { Double(opA[i * k + $0]) * Double(bValues[$0 * n + j]) }
                                let want = terms.reduce(0, +), magnitude = terms.reduce(0) { $0 + abs($1) }
                                // A float sum's error grows with its terms' magnitudes (the ±95 among them), not its result's.
                                #expect(abs(Double(c[i * cStride + j]) - want) <= 1e-6 * max(1, magnitude),
                                        "\(name) \(shapeName) t \(t) d \(d) transposeA \(transposeA): c[\(i)][\(j)] = \(c[i * cStride + j]), want \(want)")
                            }
                            for j in n..<cStride {
                                #expect(c[i * cStride + j] == -7, "\(name) \(shapeName): wrote past the view at [\(i)][\(j)]")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [1, 15, 16, 17, 40]) func transposeEverySet(rows: Int) {
        let columns = 23, lda = columns + 2, ldb = rows + 4
        let a = values(rows * lda, seed: UInt64(900 + rows), std: 1)
        for name in LaneKernels.supported {
            var b = [Float](repeating: -7, count: columns * ldb)
            table(name).transpose(a, lda, &b, ldb, rows, columns)
            for j in 0..<columns {
                for i in 0..<ldb {
                    #expect(b[j * ldb + i] == (i < rows ? a[i * lda + j] : -7), "\(name): b[\(j)][\(i)] of \(rows) rows")
                }
            }
        }
    }

    /// AdamW in every set gives the bits of the formula evaluated one float operation at a time
    /// in Swift (no fused multiply-add): the mirror copies of a stage on ranks with different
    /// instruction sets must stay identical. Gradients span 1e-8 to 1e2, so v / correction2 meets
    /// subnormals and epsilon matters.
    @Test(arguments: lengths) func adamWGivesTheSameBitsInEverySet(n: Int) {
        let p0 = randomTensor([n], seed: UInt64(600 + n), std: 0.5).scalars
        let g = randomTensor([n], seed: UInt64(601 + n), std: 1).scalars.enumerated().map { k, x in
            x * Float(pow(10, Double(k % 11) - 8))
        }
        let m0 = randomTensor([n], seed: UInt64(602 + n), std: 0.01).scalars
        let v0 = randomTensor([n], seed: UInt64(603 + n), std: 0.01).scalars.map { $0 * $0 }
        for (decay, scale) in [(Float(0), Float(1)), (Float(3e-4), Float(0.37))] {
            let step = LaneKernels.AdamWStep(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, decay: decay, learningRate: 3e-3,
                                             gradientScale: scale, corrections: (1 - 0.9 * 0.9 * 0.9, 1 - 0.95 * 0.95 * 0.95))
            var wantP = p0, wantM = m0, wantV = v0
            for j in 0..<n {
                let gj = g[j] * step.gradientScale
                let b1m = step.beta1 * wantM[j], k1g = (1 - step.beta1) * gj
                wantM[j] = b1m + k1g
                let b2v = step.beta2 * wantV[j], k2g = (1 - step.beta2) * gj
                let k2gg = k2g * gj
                wantV[j] = b2v + k2gg
                let decayed = step.decay * wantP[j]
                wantP[j] -= decayed
                let mHat = wantM[j] / step.corrections.0, vHat = wantV[j] / step.corrections.1
                let root = vHat.squareRoot(), denominator = root + step.epsilon
                let numerator = step.learningRate * mHat
                wantP[j] -= numerator / denominator
            }
            for name in LaneKernels.supported {
                let k = table(name)
                var p = p0, m = m0, v = v0
                var scalars = dp_adamw_step(beta1: step.beta1, beta2: step.beta2, epsilon: step.epsilon, decay: step.decay,
                                            learning_rate: step.learningRate, gradient_scale: step.gradientScale,
                                            correction1: step.corrections.0, correction2: step.corrections.1)
                k.adamw(&p, g, &m, &v, n, &scalars)
                for j in 0..<n {
                    #expect(p[j].bitPattern == wantP[j].bitPattern && m[j].bitPattern == wantM[j].bitPattern
                                && v[j].bitPattern == wantV[j].bitPattern,
                            "\(name) AdamW[\(j)] of \(n) (decay \(decay)): p \(p[j]) m \(m[j]) v \(v[j]), want \(wantP[j]) \(wantM[j]) \(wantV[j])")
                }
            }
        }
    }
}
