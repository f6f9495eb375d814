import Foundation
import MPI

/// Timeline spans travel between ranks as JSON.
enum JSONEncoderForTrace {
    static func encode(_ events: [TimelineEvent]) throws -> Data { try JSONEncoder().encode(events) }
}

enum JSONDecoderForTrace {
    static func decode(_ type: [TimelineEvent].Type, from bytes: [UInt8]) throws -> [TimelineEvent] {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

extension Communicator {
    /// Rank 0 gets every rank's spans (as JSON, since their number differs); others get [].
    func gatherTimelines(_ events: [TimelineEvent]) throws -> [[TimelineEvent]] {
        let bytes = try allgatherv(Array(try JSONEncoderForTrace.encode(events)))
        guard rank == 0 else { return [] }
        return try bytes.map { try JSONDecoderForTrace.decode([TimelineEvent].self, from: $0) }
    }
}
