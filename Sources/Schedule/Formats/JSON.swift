import Foundation
import JSONDiagnostics

extension Schedule {
    /// The stable JSON form:
    /// `{"kind":"dualpipe","ranks":N,"stages":S,"microbatches":M,"program":[[action,...] per rank]}`
    /// where an action is `{"op":"F"|"B"|"W"|"BW","stage":s,"mb":m}` or
    /// `{"op":"FB","f":{"stage":s,"mb":m},"b":{"stage":s2,"mb":m2}}`. Keys in this order, one rank per line.
    public func json() -> String {
        func cell(_ c: Chunk) -> String { "{\"stage\":\(c.stage),\"mb\":\(c.microBatch)}" }
        func item(_ a: Action) -> String {
            switch a {
            case .forwardBackward(let f, let b): "{\"op\":\"FB\",\"f\":\(cell(f)),\"b\":\(cell(b))}"
            default: "{\"op\":\"\(a.op.rawValue)\",\"stage\":\(a.chunks[0].stage),\"mb\":\(a.chunks[0].microBatch)}"
            }
        }
        let rows = program.map { "  [" + $0.map(item).joined(separator: ",") + "]" }
        return "{\"kind\":\"\(kind.rawValue)\",\"ranks\":\(ranks),\"stages\":\(stages),\"microbatches\":\(microBatches),\"program\":[\n"
            + rows.joined(separator: ",\n") + "\n]}\n"
    }

    private struct JSONCell: Decodable { var stage: Int; var mb: Int }
    private struct JSONAction: Decodable {
        var op: String
        var stage: Int?, mb: Int?
        var f: JSONCell?, b: JSONCell?
    }
    private struct JSONSchedule: Decodable {
        var kind: String, ranks: Int, stages: Int, microbatches: Int
        var program: [[JSONAction]]
    }

    /// Reads the JSON form back, checking the configuration rules and the stage count.
    public init(json: String) throws {
        let decoded: JSONSchedule
        let data = Data(json.utf8)
        do {
            decoded = try JSONDecoder().decode(JSONSchedule.self, from: data)
        } catch let error as DecodingError {
            throw ScheduleError.malformed("not schedule JSON: \(JSONProblem.describe(error, in: data))")
        }
        // An interleaved kind's stages a rank V is what the stage count says; the other kinds' is fixed.
        let kind = try ScheduleKind.named(decoded.kind)
        let v = kind.isLooped && decoded.ranks >= 1 && decoded.stages % decoded.ranks == 0 ? decoded.stages / decoded.ranks : nil
        let configuration = try ScheduleConfiguration(kind: kind, ranks: decoded.ranks, microBatches: decoded.microbatches, stagesPerRank: v)
        guard configuration.stages == decoded.stages else {
            throw ScheduleError.malformed("\(decoded.stages) stages, but \(configuration.kind.title) on \(decoded.ranks) ranks has \(configuration.stages)")
        }
        let program = try decoded.program.map { try $0.map { a -> Action in
            func chunk(_ c: JSONCell?) throws -> Chunk {
                guard let c else { throw ScheduleError.malformed("action \(a.op) lacks a cell") }
                return Chunk(stage: c.stage, microBatch: c.mb)
            }
            if a.op == "FB" { return .forwardBackward(forward: try chunk(a.f), backward: try chunk(a.b)) }
            guard let stage = a.stage, let mb = a.mb else { throw ScheduleError.malformed("action \(a.op) lacks stage or mb") }
            let c = Chunk(stage: stage, microBatch: mb)
            switch a.op {
            case "F": return .forward(c)
            case "B": return .backwardInput(c)
            case "W": return .backwardWeight(c)
            case "BW": return .backward(c)
            default: throw ScheduleError.malformed("unknown op '\(a.op)'")
            }
        } }
        self.init(configuration: configuration, program: program)
    }
}
