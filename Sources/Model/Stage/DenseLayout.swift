/// Where each part of the model sits in a stage's dense parameters: every parameter but the routed
/// experts', in `visitParameters` order (the embedding on stage 0, the stage's blocks in order, the
/// head on the last stage). A checkpoint stores each stage's dense parameters and their AdamW
/// moments as one flat record; this layout lets a run cut into other stages find every block's
/// slice in the records of the stages that held it, from the model's shape alone.
public struct DenseLayout: Sendable {
    public enum Part: Hashable, Sendable {
        case embedding
        case block(Int)
        case head
    }

    /// The stage's parts in buffer order, each with its scalar count.
    public let parts: [(part: Part, count: Int)]

    public init(stage: Int, partition: StagePartition, model: ModelConfiguration) {
        var parts: [(Part, Int)] = []
        if partition.hasEmbedding(stage) { parts.append((.embedding, model.denseParameterCount(of: .embedding))) }
        for block in partition.blocks(of: stage) { parts.append((.block(block), model.denseParameterCount(of: .block(block)))) }
        if partition.hasHead(stage) { parts.append((.head, model.denseParameterCount(of: .head))) }
        self.parts = parts
    }

    /// Scalars in the stage's flat record.
    public var count: Int { parts.reduce(0) { $0 + $1.count } }

    /// The scalars of `part` in the stage's flat record (nil: the stage does not hold it).
    public func range(of part: Part) -> Range<Int>? {
        var offset = 0
        for (p, count) in parts {
            if p == part { return offset..<(offset + count) }
            offset += count
        }
        return nil
    }
}

extension StagePartition {
    /// The stage holding `part`.
    public func stage(holding part: DenseLayout.Part) -> Int {
        switch part {
        case .embedding: 0
        case .block(let block): block / blocksPerStage
        case .head: stages - 1
        }
    }
}

extension ModelConfiguration {
    /// Scalars of `part` that are not a routed expert's: the token and position tables; a block's
    /// two norm gains, fused QKV and output projections, and its dense SwiGLU or its router (with
    /// the shared expert where there is one); the final norm's gain and the output projection.
    public func denseParameterCount(of part: DenseLayout.Part) -> Int {
        switch part {
        case .embedding:
            return vocabulary * hidden + sequenceLength * hidden
        case .block(let block):
            let attention = 2 * hidden + 4 * hidden * hidden
            guard moeLayers.contains(block) else { return attention + 3 * hidden * ffnHidden }
            return attention + hidden * experts + (sharedExpert ? 3 * hidden * expertHidden : 0)
        case .head:
            return hidden + hidden * vocabulary
        }
    }
}
