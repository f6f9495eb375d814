import MPI
import Model

/// Some of the gradients of a rank's stages (the dense ones, or the experts') as one flat buffer
/// that a collective reduces in place: gathered from the parameters in visiting order, stage by
/// stage in increasing stage index, and scattered back after the reduction. Every rank of a
/// replica group holds the same stages, so their arenas line up element for element.
public final class GradientArena: GradientGathering {
    let stages: [any ParameterOwner]
    let selects: (Parameter) -> Bool
    /// The selected gradients' elements.
    public let count: Int
    /// [count] the selected gradients, concatenated; allocated when first used, so that an arena
    /// whose sums add in place (the owned stage of a mirror pair) or that has no one to sum with
    /// holds no second copy of the gradients.
    public private(set) lazy var buffer = MessageBuffer<Float>(count: count, repeating: 0)

    /// `stages` in increasing index; `selects` picks the parameters this arena carries.
    public init(stages: [any ParameterOwner], selects: @escaping (Parameter) -> Bool) {
        self.stages = stages
        self.selects = selects
        var count = 0
        for stage in stages { stage.visitParameters { if selects($0) { count += $0.gradient.count } } }
        self.count = count
    }

    func gather() {
        let base = buffer.pointer.baseAddress!
        visitGradients { gradient, offset in gradient.withUnsafeBufferPointer { (base + offset).update(from: $0.baseAddress!, count: $0.count) } }
    }

    func scatter() {
        let base = buffer.pointer.baseAddress!
        visitGradients { gradient, offset in gradient.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base + offset, count: $0.count) } }
    }

    /// Every element of the buffer is one gradient element's.
    var addsInPlace: Bool { true }

    /// Visits each selected gradient with its offset in the buffer, in buffer order.
    func visitGradients(_ body: (inout [Float], Int) -> Void) {
        var offset = 0
        for stage in stages {
            stage.visitParameters { p in
                guard selects(p) else { return }
                body(&p.gradient.scalars, offset)
                offset += p.gradient.count
            }
        }
    }
}

/// Gradients gathered into one flat buffer that a message or a collective sums, and scattered back.
protocol GradientGathering: AnyObject {
    /// The buffer's elements (known without allocating it).
    var count: Int { get }
    var buffer: MessageBuffer<Float> { get }
    func gather()
    func scatter()
    /// Whether each element of the buffer is exactly one gradient element, none the sum of two
    /// local ones: then a partner's part can be added straight into the gradients
    /// (`add(_:from:)`), with no gather before and no scatter after.
    var addsInPlace: Bool { get }
    /// Visits the gradients this buffer carries with their offsets in it (each at most once).
    func visitGradients(_ body: (inout [Float], Int) -> Void)
}

extension GradientGathering {
    /// Adds `other` ([piece.count] floats: a partner's elements `piece` of the buffer) into the
    /// gradients those elements gather from: the addition the buffer would have made, on the same
    /// operands, so the sum has the same bits. Only where `addsInPlace`.
    func add(_ piece: Range<Int>, from other: UnsafePointer<Float>) {
        precondition(addsInPlace, "adding in place into gradients that the buffer sums locally first")
        visitGradients { gradient, offset in
            let lower = max(offset, piece.lowerBound), upper = min(offset + gradient.count, piece.upperBound)
            guard lower < upper else { return }
            gradient.withUnsafeMutableBufferPointer { g in
                let sum = g.baseAddress! + (lower - offset), part = other + (lower - piece.lowerBound)
                for j in 0..<(upper - lower) { sum[j] += part[j] }
            }
        }
    }
}

extension Parameter {
    /// Whether the parameter belongs to a routed expert (`block3.moe.expert5.w13`): expert
    /// parameters are synchronised apart from dense ones, since expert parallelism shards them.
    public var isRoutedExpert: Bool { name.contains(".expert") }
}
