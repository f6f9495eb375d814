import Foundation

/// Timeline spans travel between ranks as JSON.
enum JSONEncoderForTrace {
    static func encode(_ events: [TimelineEvent]) throws -> Data { try JSONEncoder().encode(events) }
}

enum JSONDecoderForTrace {
    static func decode(_ type: [TimelineEvent].Type, from bytes: [UInt8]) throws -> [TimelineEvent] {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
