/// A float32 tensor stored row-major (the last dimension is contiguous). A value type: copies
/// share storage until one of them is written (the `Array` underneath is copy-on-write).
///
/// The model keeps activations two-dimensional, `[tokens, features]`; `rows` folds every
/// leading dimension into one, so a `[sequences, length, hidden]` tensor is also a
/// `[sequences * length, hidden]` matrix.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements, row-major; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor shape \(shape) has a negative dimension")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` with unspecified elements: the caller must write every element
    /// before reading any. For kernel outputs that are fully overwritten, where zero-filling
    /// would be wasted work.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor shape \(shape) has a negative dimension")
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// A tensor of `shape` holding `scalars` row-major.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "tensor shape \(shape) holds \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` with elements drawn from N(0, std²), in order, one `nextNormal` each.
    public init(shape: [Int], normalStandardDeviation std: Float, rng: inout SplitMix64) {
        self.init(shape: shape)
        // Through the buffer, so that no per-element uniqueness check is left in the longest wait of
        // a large model's start (4% off a 116M-parameter reference run's start on an AMD EPYC).
        scalars.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = std * rng.nextNormal() }
        }
    }

    /// The number of elements.
    public var count: Int { scalars.count }
    /// The product of every dimension but the last (1 for a scalar or a vector).
    public var rows: Int { shape.dropLast().reduce(1, *) }
    /// The last dimension (1 for a scalar).
    public var columns: Int { shape.last ?? 1 }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Element `[row, column]` of the tensor seen as a `[rows, columns]` matrix.
    public subscript(row: Int, column: Int) -> Float {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// Sets every element to zero, keeping the shape and the storage.
    public mutating func zero() {
        scalars.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = 0 }
        }
    }

    public var description: String { "Tensor\(shape)" }
}
