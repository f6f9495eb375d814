import Tensor

/// One pipeline stage: the unit the pipeline runtime calls. It runs F, B and W of its part of
/// the model for one micro-batch at a time, any number of micro-batches in flight.
///
/// - The first stage's input is the micro-batch's byte ids as floats, `[tokens]`; its input
///   gradient is an empty `[0]` tensor (there is nothing before it).
/// - Middle stages take and return activations `[tokens, hidden]` (and their gradients).
/// - The last stage needs the `targets` `[tokens]` in F and returns the loss as a `[1]` tensor;
///   its B takes `[1]` holding `∂L_total/∂loss` (1/M when averaging M micro-batches).
public final class Stage: ParameterOwner {
    public let index: Int
    public let partition: StagePartition
    public let embedding: Embedding?
    public let blocks: [TransformerBlock]
    public let head: LMHead?

    public init(index: Int, partition: StagePartition, embedding: Embedding?, blocks: [TransformerBlock], head: LMHead?) {
        self.index = index
        self.partition = partition
        self.embedding = embedding
        self.blocks = blocks
        self.head = head
    }

    /// Stage `index` of the model initialised from `seed`, exactly as the same blocks of any
    /// other partition. `dispatcher` builds the expert dispatcher of an MoE block (default: all
    /// experts local).
    public convenience init(
        index: Int, partition: StagePartition, configuration: ModelConfiguration, seed: UInt64,
        dispatcher: ((Int) -> any ExpertDispatcher)? = nil
    ) {
        let makeDispatcher = dispatcher ?? { block in
            MoELayer.localExperts(name: "block\(block).moe", configuration, seed: seed, stream: [2, UInt64(block), 1])
        }
        self.init(
            index: index, partition: partition,
            embedding: partition.hasEmbedding(index) ? Embedding(configuration, seed: seed) : nil,
            blocks: partition.blocks(of: index).map { TransformerBlock(index: $0, configuration, seed: seed, dispatcher: makeDispatcher) },
            head: partition.hasHead(index) ? LMHead(configuration, seed: seed) : nil)
    }

    public var isFirst: Bool { embedding != nil }
    public var isLast: Bool { head != nil }

    /// F of micro-batch `mb`.
    public func forward(_ mb: Int, _ input: Tensor, targets: [Int]? = nil) -> Tensor {
        var x = embedding?.forward(mb, input) ?? input
        for block in blocks { x = block.forward(mb, x) }
        guard let head else { return x }
        guard let targets else { preconditionFailure("stage \(index) holds the head: forward needs the targets") }
        return Tensor(shape: [1], scalars: [head.forward(mb, x, targets: targets)])
    }

    /// B of micro-batch `mb`: the gradient of this stage's input.
    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        var d: Tensor
        if let head {
            precondition(outputGradient.count == 1, "stage \(index) holds the head: its output gradient is [1], got \(outputGradient.shape)")
            d = head.backwardInput(mb, lossGradient: outputGradient.scalars[0])
        } else {
            d = outputGradient
        }
        for block in blocks.reversed() { d = block.backwardInput(mb, d) }
        return embedding?.backwardInput(mb, d) ?? d
    }

    /// W of micro-batch `mb`: adds its parameter gradients.
    public func backwardWeight(_ mb: Int) {
        backwardWeight(mb, between: {})
    }

    /// W, `between` run after the head's and each block's.
    public func backwardWeight(_ mb: Int, between: () -> Void) {
        if let head { head.backwardWeight(mb); between() }
        for block in blocks.reversed() { block.backwardWeight(mb); between() }
        embedding?.backwardWeight(mb)
    }

    /// The full backward: B then W.
    @discardableResult
    public func backward(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let d = backwardInput(mb, outputGradient)
        backwardWeight(mb)
        return d
    }

    /// Frees what micro-batch `mb` saved in every layer: the end of a forward-only pass.
    public func discard(_ mb: Int) {
        embedding?.discard(mb)
        for block in blocks { block.discard(mb) }
        head?.discard(mb)
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        embedding?.visitParameters(body)
        for block in blocks { block.visitParameters(body) }
        head?.visitParameters(body)
    }

    /// The MoE layers of this stage, in block order (their `expertLoad` feeds expert placement).
    public var moeLayers: [MoELayer] { blocks.compactMap { $0.ffn as? MoELayer } }
}
