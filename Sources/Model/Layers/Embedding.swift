import Tensor

/// Token and learned position embedding: `y[t] = tokens[id(t)] + positions[t mod T]`.
/// Input: the byte ids as floats, `[tokens]` (0...255 are exact in float32, and keeping the
/// stage input a float tensor lets the pipeline send every stage input the same way).
/// B has no input to differentiate (ids are not continuous), so it only keeps `dy` for W.
public final class Embedding: Layer {
    public var table: Parameter      // [vocabulary, hidden]
    public var positions: Parameter  // [sequenceLength, hidden]
    private var saved: [Int: [Int]] = [:]              // mb -> token ids [tokens]
    private var savedGradients: [Int: ([Int], Tensor)] = [:] // mb -> (ids, dy [tokens, hidden])

    public init(_ configuration: ModelConfiguration, seed: UInt64) {
        table = .normal("embedding.tokens", shape: [configuration.vocabulary, configuration.hidden],
                        std: 0.02, seed: seed, stream: [1, 0])
        positions = .normal("embedding.positions", shape: [configuration.sequenceLength, configuration.hidden],
                            std: 0.02, seed: seed, stream: [1, 1])
    }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let hidden = table.value.columns, vocabulary = table.value.rows, length = positions.value.rows
        let ids = input.scalars.map { Int($0) }
        var y = Tensor(shape: [ids.count, hidden])
        table.value.scalars.withUnsafeBufferPointer { pt in
            positions.value.scalars.withUnsafeBufferPointer { pp in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    for (t, id) in ids.enumerated() {
                        precondition(id >= 0 && id < vocabulary, "embedding: token id \(id) outside 0..<\(vocabulary)")
                        let row = pt.baseAddress! + id * hidden, pos = pp.baseAddress! + (t % length) * hidden
                        let out = py.baseAddress! + t * hidden
                        for j in 0..<hidden { out[j] = row[j] + pos[j] }
                    }
                }
            }
        }
        saved.store(mb, ids, "embedding forward")
        return y
    }

    /// Returns an empty `[0]` tensor: the first stage has no input gradient to send anywhere.
    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let ids = saved.take(mb, "embedding backwardInput")
        savedGradients.store(mb, (ids, outputGradient), "embedding backwardInput")
        return Tensor(shape: [0])
    }

    public func backwardWeight(_ mb: Int) {
        let (ids, dy) = savedGradients.take(mb, "embedding backwardWeight")
        let hidden = table.value.columns, length = positions.value.rows
        dy.scalars.withUnsafeBufferPointer { pd in
            table.gradient.scalars.withUnsafeMutableBufferPointer { pt in
                positions.gradient.scalars.withUnsafeMutableBufferPointer { pp in
                    for (t, id) in ids.enumerated() {
                        let d = pd.baseAddress! + t * hidden
                        let row = pt.baseAddress! + id * hidden, pos = pp.baseAddress! + (t % length) * hidden
                        for j in 0..<hidden { row[j] += d[j]; pos[j] += d[j] }
                    }
                }
            }
        }
    }

    public func discard(_ mb: Int) {
        saved[mb] = nil
        savedGradients[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        body(&table)
        body(&positions)
    }
}
