import MPI
import Model

/// Some of the gradients of a rank's stages (the dense ones, or the experts') as one flat buffer
/// that a collective reduces in place: gathered from the parameters in visiting order, stage by
/// stage in increasing stage index, and scattered back after the reduction. Every rank of a
/// replica group holds the same stages, so their arenas line up element for element.
public final class GradientArena: GradientGathering {
    let stages: [any ParameterOwner]
    let selects: (Parameter) -> Bool
    /// [floats] the selected gradients, concatenated.
    public let buffer: MessageBuffer<Float>

    /// `stages` in increasing index; `selects` picks the parameters this arena carries.
    public init(stages: [any ParameterOwner], selects: @escaping (Parameter) -> Bool) {
        self.stages = stages
        self.selects = selects
        var count = 0
        for stage in stages { stage.visitParameters { if selects($0) { count += $0.gradient.count } } }
        buffer = MessageBuffer(count: count, repeating: 0)
    }

    public var count: Int { buffer.count }

    func gather() {
        walk { gradient, slot in gradient.withUnsafeBufferPointer { slot.update(from: $0.baseAddress!, count: $0.count) } }
    }

    func scatter() {
        walk { gradient, slot in gradient.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: slot, count: $0.count) } }
    }

    /// Visits each selected gradient with its place in the buffer, in buffer order.
    private func walk(_ body: (inout [Float], UnsafeMutablePointer<Float>) -> Void) {
        var offset = 0
        let base = buffer.pointer.baseAddress!
        for stage in stages {
            stage.visitParameters { p in
                guard selects(p) else { return }
                body(&p.gradient.scalars, base + offset)
                offset += p.gradient.count
            }
        }
    }
}

/// Gradients gathered into one flat buffer that a message or a collective sums, and scattered back.
protocol GradientGathering: AnyObject {
    var buffer: MessageBuffer<Float> { get }
    func gather()
    func scatter()
}

extension Parameter {
    /// Whether the parameter belongs to a routed expert (`block3.moe.expert5.w13`): expert
    /// parameters are synchronised apart from dense ones, since expert parallelism shards them.
    public var isRoutedExpert: Bool { name.contains(".expert") }
}
