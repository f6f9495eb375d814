// Elementwise functions on 16 floats at a time: the exponential and the normal CDF that the
// activations need, as polynomials the compiler turns into AVX (or NEON) code. Calling libm's
// expf and erff one element at a time cost more than the matmuls around them.

@usableFromInline typealias Float16Lanes = SIMD16<Float>

/// e^x, Cephes' single-precision method: x = n ln 2 + r with |r| <= ln2 / 2, a degree-6
/// polynomial for e^r, and 2^n put straight into the exponent bits. Relative error about 1e-7.
/// Inputs are clamped to [-87, 88] (below, about 1.6e-38 instead of less; above, 1.7e38).
/// Written with lane arithmetic and bit casts only: the generic SIMD helpers (rounded, clamped,
/// the rounding conversions) compile to one lane at a time and made this 20 times slower.
@inline(__always) @usableFromInline
func exponential(_ x: Float16Lanes) -> Float16Lanes {
    let low = Float16Lanes(repeating: -87), high = Float16Lanes(repeating: 88)
    let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    // Adding 1.5 x 2^23 rounds to an integer and leaves it in the low mantissa bits.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = Float16Lanes(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r * r + r + 1
    let twoToTheN = (bits(shifted) &- 0x4B40_0000 &+ 127) &<< 23
    return er * lanes(twoToTheN)
}

/// Φ(x), the standard normal CDF, and e^(-x²/2) (from which the density φ = e^(-x²/2) / √(2π)):
/// Abramowitz and Stegun 7.1.26 for erf(|x| / √2), absolute error below 1.5e-7, sharing its
/// exponential with the density. Beyond |x| = 13, Φ is 0 or 1 in float and e^(-x²/2) underflows.
@inline(__always) @usableFromInline
func normalCDF(_ x: Float16Lanes) -> (cdf: Float16Lanes, gaussian: Float16Lanes) {
    let sign = bits(x) & 0x8000_0000
    let limit = Float16Lanes(repeating: 13)
    var a = lanes(bits(x) & 0x7FFF_FFFF)
    a = a.replacing(with: limit, where: a .> limit)
    let t = 1 / (1 + 0.327_591_1 * 0.707_106_77 * a)
    var p = Float16Lanes(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let gaussian = exponential(-0.5 * a * a)
    let tail = 0.5 * p * t * gaussian // 1 - Φ(|x|)
    // Φ(x) = 0.5 ± (0.5 - tail), the sign of x.
    return (0.5 + lanes(bits(0.5 - tail) ^ sign), gaussian)
}

/// σ(x) = 1 / (1 + e^-x).
@inline(__always) @usableFromInline
func logistic(_ x: Float16Lanes) -> Float16Lanes { 1 / (1 + exponential(-x)) }

@inline(__always) @usableFromInline
func bits(_ v: Float16Lanes) -> SIMD16<UInt32> { unsafeBitCast(v, to: SIMD16<UInt32>.self) }

@inline(__always) @usableFromInline
func lanes(_ u: SIMD16<UInt32>) -> Float16Lanes { unsafeBitCast(u, to: Float16Lanes.self) }

/// 16 floats from `p`.
@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> Float16Lanes { UnsafeRawPointer(p).loadUnaligned(as: Float16Lanes.self) }

/// 16 floats to `p`.
@inline(__always) @usableFromInline
func store16(_ v: Float16Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float16Lanes.self)
}

/// Fewer than 16 floats from `p` (`count` of them; the lanes past it are 0).
@inline(__always) @usableFromInline
func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> Float16Lanes {
    var v = Float16Lanes()
    for k in 0..<count { v[k] = p[k] }
    return v
}

/// The first `count` (fewer than 16) lanes of `v` to `p`.
@inline(__always) @usableFromInline
func storeLanes(_ v: Float16Lanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for k in 0..<count { p[k] = v[k] }
}

// Every loop below runs its full groups of 16 inline and hands the last, shorter group to a
// function that is never inlined. Kept in the same loop, the partial group's lane-by-lane loads
// make the compiler hold the lanes on the stack and compute one of them in scalar code (GELU with
// its derivative: 3.4 ns an element against 2.1).

/// Applies `body` to `count` floats from `input` into `output` (which may be the same memory),
/// 16 at a time; the last partial group runs on zero-padded lanes.
@inline(__always) @usableFromInline
func forEachLanes(_ count: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                  _ body: (Float16Lanes) -> Float16Lanes) {
    let full = count & ~15
    var i = 0
    while i < full {
        store16(body(load16(input + i)), output + i)
        i += 16
    }
    if full < count { lastLanes(count - full, input + full, output + full, body) }
}

@inline(never) @usableFromInline
func lastLanes(_ n: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
               _ body: (Float16Lanes) -> Float16Lanes) {
    storeLanes(body(loadLanes(input, n)), output, n)
}

/// The same over two inputs read in step (`body` gets 16 of each).
@inline(__always) @usableFromInline
func forEachLanes(_ count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                  _ body: (Float16Lanes, Float16Lanes) -> Float16Lanes) {
    let full = count & ~15
    var i = 0
    while i < full {
        store16(body(load16(a + i), load16(b + i)), output + i)
        i += 16
    }
    if full < count { lastLanes(count - full, a + full, b + full, output + full, body) }
}

@inline(never) @usableFromInline
func lastLanes(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
               _ body: (Float16Lanes, Float16Lanes) -> Float16Lanes) {
    storeLanes(body(loadLanes(a, n), loadLanes(b, n)), output, n)
}

/// `Σ a[k] b[k]` over `k < n`, in sixteen running partial sums.
@inline(__always) @usableFromInline
func innerProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let full = n & ~15
    var lanesSum = Float16Lanes()
    var j = 0
    while j < full {
        lanesSum += load16(a + j) * load16(b + j)
        j += 16
    }
    var sum = lanesSum.sum()
    for k in full..<n { sum += a[k] * b[k] }
    return sum
}

/// `Σ a[k] b[k] c[k]` over `k < n`, the same way.
@inline(__always) @usableFromInline
func innerProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ n: Int) -> Float {
    let full = n & ~15
    var lanesSum = Float16Lanes()
    var j = 0
    while j < full {
        lanesSum += load16(a + j) * load16(b + j) * load16(c + j)
        j += 16
    }
    var sum = lanesSum.sum()
    for k in full..<n { sum += a[k] * b[k] * c[k] }
    return sum
}
