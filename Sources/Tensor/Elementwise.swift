// Elementwise kernels. Each loops over raw buffer pointers (no bounds checks, no closures per
// element) so that the release build vectorises the arithmetic ones.

/// `a += b` elementwise; shapes must hold the same number of elements.
public func add(_ b: Tensor, into a: inout Tensor) {
    add(b, scaledBy: 1, into: &a)
}

/// `a += alpha * b` elementwise.
public func add(_ b: Tensor, scaledBy alpha: Float, into a: inout Tensor) {
    precondition(a.count == b.count, "add: \(a.shape) and \(b.shape) differ in size")
    b.scalars.withUnsafeBufferPointer { pb in
        a.scalars.withUnsafeMutableBufferPointer { pa in
            let x = pb.baseAddress!, y = pa.baseAddress!
            for i in 0..<pa.count { y[i] += alpha * x[i] }
        }
    }
}

/// `a *= b` elementwise (the Hadamard product); shapes must hold the same number of elements.
public func multiply(_ a: inout Tensor, by b: Tensor) {
    precondition(a.count == b.count, "multiply: \(a.shape) and \(b.shape) differ in size")
    b.scalars.withUnsafeBufferPointer { pb in
        a.scalars.withUnsafeMutableBufferPointer { pa in
            let x = pb.baseAddress!, y = pa.baseAddress!
            for i in 0..<pa.count { y[i] *= x[i] }
        }
    }
}

/// `a + b` elementwise, shape of `a`.
public func adding(_ a: Tensor, _ b: Tensor) -> Tensor {
    var c = a
    add(b, into: &c)
    return c
}

/// `a *= alpha` elementwise.
public func scale(_ a: inout Tensor, by alpha: Float) {
    a.scalars.withUnsafeMutableBufferPointer { pa in
        guard let y = pa.baseAddress else { return }
        for i in 0..<pa.count { y[i] *= alpha }
    }
}

/// `alpha * a` elementwise.
public func scaled(_ a: Tensor, by alpha: Float) -> Tensor {
    var c = a
    scale(&c, by: alpha)
    return c
}

/// `Σ a[i] * b[i]`, accumulated in Double (the gradient checks' directional derivatives).
public func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count, "dot: \(a.shape) and \(b.shape) differ in size")
    var sum = 0.0
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            for i in 0..<pa.count { sum += Double(pa[i]) * Double(pb[i]) }
        }
    }
    return sum
}
