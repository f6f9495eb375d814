/// One cell of the pipeline: a global stage and a global micro-batch id.
public struct Chunk: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var stage: Int
    public var microBatch: Int

    public init(stage: Int, microBatch: Int) {
        self.stage = stage
        self.microBatch = microBatch
    }

    public static func < (a: Chunk, b: Chunk) -> Bool {
        (a.stage, a.microBatch) < (b.stage, b.microBatch)
    }

    /// `stage:micro-batch`, the cell half of the short action syntax.
    public var description: String { "\(stage):\(microBatch)" }
}

/// The compute vocabulary of a schedule. A rank's program is an ordered list of these.
public enum Action: Hashable, Sendable {
    /// F: forward of a chunk.
    case forward(Chunk)
    /// B: the input-gradient half of a backward; its weight gradient waits for a later W.
    case backwardInput(Chunk)
    /// W: the deferred weight gradient of an earlier B of the same chunk.
    case backwardWeight(Chunk)
    /// BW: a full backward, input and weight gradients together.
    case backward(Chunk)
    /// FB: the forward of one chunk overlapped with the full backward of another.
    case forwardBackward(forward: Chunk, backward: Chunk)

    public enum Op: String, Sendable, CaseIterable {
        case F, B, W, BW, FB
    }

    public var op: Op {
        switch self {
        case .forward: .F
        case .backwardInput: .B
        case .backwardWeight: .W
        case .backward: .BW
        case .forwardBackward: .FB
        }
    }

    /// The chunk whose forward this action runs, if any.
    public var forwardChunk: Chunk? {
        switch self {
        case .forward(let c): c
        case .forwardBackward(let f, _): f
        default: nil
        }
    }

    /// The chunk whose input gradient this action computes (B, BW or the backward half of FB).
    public var backwardChunk: Chunk? {
        switch self {
        case .backwardInput(let c), .backward(let c): c
        case .forwardBackward(_, let b): b
        default: nil
        }
    }

    /// The chunk whose weight gradient this action computes (W, BW or the backward half of FB).
    public var weightChunk: Chunk? {
        switch self {
        case .backwardWeight(let c), .backward(let c): c
        case .forwardBackward(_, let b): b
        default: nil
        }
    }

    /// Every chunk the action touches, forward part first.
    public var chunks: [Chunk] {
        switch self {
        case .forward(let c), .backwardInput(let c), .backwardWeight(let c), .backward(let c): [c]
        case .forwardBackward(let f, let b): [f, b]
        }
    }
}

extension Action: CustomStringConvertible, LosslessStringConvertible {
    /// The short syntax: `F3:12`, `B3:12`, `W3:12`, `BW3:12`, `FB3:12+4:7` (forward cell, then backward cell).
    public var description: String {
        switch self {
        case .forwardBackward(let f, let b): "FB\(f)+\(b)"
        default: "\(op.rawValue)\(chunks[0])"
        }
    }

    /// Parses the short syntax written by `description`; nil for anything else.
    public init?(_ text: String) {
        func cell(_ s: Substring) -> Chunk? {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let stage = Int(parts[0]), let mb = Int(parts[1]),
                  stage >= 0, mb >= 0 else { return nil }
            return Chunk(stage: stage, microBatch: mb)
        }
        let letters = text.prefix { $0.isLetter }
        let rest = text.dropFirst(letters.count)
        switch letters {
        case "FB":
            let halves = rest.split(separator: "+", omittingEmptySubsequences: false)
            guard halves.count == 2, let f = cell(halves[0]), let b = cell(halves[1]) else { return nil }
            self = .forwardBackward(forward: f, backward: b)
        case "F": guard let c = cell(rest) else { return nil }; self = .forward(c)
        case "B": guard let c = cell(rest) else { return nil }; self = .backwardInput(c)
        case "W": guard let c = cell(rest) else { return nil }; self = .backwardWeight(c)
        case "BW": guard let c = cell(rest) else { return nil }; self = .backward(c)
        default: return nil
        }
    }
}
