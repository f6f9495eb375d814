extension Schedule {
    /// The forward-only form of the schedule, as DeepSeek's `step(forward_only=True)` runs it:
    /// each rank keeps its forwards in their order, an FB pair keeps its F, and B, W and BW go.
    /// Evaluation runs it. Dropping actions only removes dependencies, so a schedule that runs to
    /// the end still does; `validate()` does not apply (it wants a backward per chunk).
    public var forwardOnly: Schedule {
        Schedule(configuration: configuration,
                 program: program.map { $0.compactMap { $0.forwardChunk.map(Action.forward) } })
    }
}
