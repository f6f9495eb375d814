import Testing
@testable import Schedule

/// `schedule` needs exactly `depth` messages in flight a channel: one fewer deadlocks under MPI's
/// strict reading, `lowered()` picks `depth` by itself, and that lowering validates.
func expectChannelDepth(_ schedule: Schedule, _ depth: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let failure = try #require(throws: ScheduleValidationError.self, sourceLocation: sourceLocation) {
        try schedule.lowered(channelDepth: depth - 1).validate()
    }
    #expect(failure.rule == "deadlock freedom", sourceLocation: sourceLocation)
    let lowered = schedule.lowered()
    #expect(lowered.channelDepth == depth, sourceLocation: sourceLocation)
    #expect(lowered == schedule.lowered(channelDepth: depth), sourceLocation: sourceLocation)
    try lowered.validate()
}
