import ArgumentParser

/// `--skip-memory-check`: the way past a refusal by the memory estimate, for a job the user knows
/// fits (the estimate counts each context whole until its W, where a B already frees part of it)
/// or one that may swap. The estimate is still made, and a job it would have refused runs with a
/// warning.
struct MemoryCheckOption: ParsableArguments {
    @Flag(name: .customLong("skip-memory-check"), help: "Run even where the memory estimate says the ranks of a node need more than its memory (MemTotal, or the cgroup's limit); rank 0 prints the estimate as a warning instead.")
    var skip = false

    /// The text that tells a refused user the way past it.
    static let hint = "--skip-memory-check runs it anyway"
}
