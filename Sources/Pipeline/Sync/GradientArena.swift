import MPI
import Model

/// Some of the gradients of a rank's stages (the dense ones, or the experts') as one flat buffer
/// that a collective reduces in place: gathered from the parameters in visiting order, stage by
/// stage in increasing stage index, and scattered back after the reduction. Every rank of a
/// replica group holds the same stages, so their arenas line up element for element.
public final class GradientArena {
    let stages: [Stage]
    let selects: (Parameter) -> Bool
    /// [floats] the selected gradients, concatenated.
    public let buffer: MessageBuffer<Float>

    /// `stages` in increasing index; `selects` picks the parameters this arena carries.
    public init(stages: [Stage], selects: @escaping (Parameter) -> Bool) {
        self.stages = stages
        self.selects = selects
        var count = 0
        for stage in stages { stage.visitParameters { if selects($0) { count += $0.gradient.count } } }
        buffer = MessageBuffer(count: count, repeating: 0)
    }

    public var count: Int { buffer.count }

    func gather() {
        var offset = 0
        let base = buffer.pointer.baseAddress!
        for stage in stages {
            stage.visitParameters { p in
                guard selects(p) else { return }
                p.gradient.scalars.withUnsafeBufferPointer { (base + offset).update(from: $0.baseAddress!, count: $0.count) }
                offset += p.gradient.count
            }
        }
    }

    func scatter() {
        var offset = 0
        let base = buffer.pointer.baseAddress!
        for stage in stages {
            stage.visitParameters { p in
                guard selects(p) else { return }
                p.gradient.scalars.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base + offset, count: $0.count) }
                offset += p.gradient.count
            }
        }
    }
}

extension Parameter {
    /// Whether the parameter belongs to a routed expert (`block3.moe.expert5.w13`): expert
    /// parameters are synchronised apart from dense ones, since expert parallelism shards them.
    public var isRoutedExpert: Bool { name.contains(".expert") }
}
