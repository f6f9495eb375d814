// Inner products on 16 floats at a time, for the reductions that stay in Swift (RMSNorm and its
// backward, row dots). The elementwise kernels with exponentials are C (see LaneKernels).

@usableFromInline typealias Float16Lanes = SIMD16<Float>

/// 16 floats from `p`.
@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> Float16Lanes { UnsafeRawPointer(p).loadUnaligned(as: Float16Lanes.self) }

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

