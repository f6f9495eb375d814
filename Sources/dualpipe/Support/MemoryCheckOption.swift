import ArgumentParser
import MPI
import Model
import Pipeline

/// `--skip-memory-check`: the way past a refusal by the memory estimate, for a job the user knows
/// fits (the estimate counts each context whole until its W, where a B already frees part of it)
/// or one that may swap. The estimate is still made, and a job it would have refused runs with a
/// warning.
struct MemoryCheckOption: ParsableArguments {
    @Flag(name: .customLong("skip-memory-check"), help: "Run even where the memory estimate says the ranks of a node need more than its memory (MemTotal, or the cgroup's limit); rank 0 prints the estimate as a warning instead.")
    var skip = false

    /// The one verdict of every memory check: refused with the way past it named, or, with `skip`,
    /// the same text as a warning (printed where `prints`: rank 0 of a job) and the run goes on.
    static func refuse(_ verdict: String, skip: Bool, prints: Bool = true) throws {
        guard skip else { throw ValidationError("\(verdict); --skip-memory-check runs it anyway") }
        if prints { printError("warning: \(verdict); running anyway (--skip-memory-check)") }
    }

    /// One process's need against the machine's memory (MemTotal, or its cgroup's limit): `run`
    /// bytes it will allocate beside the process as it stands now; `verdict` says what needs them,
    /// given the process's bytes and the limit. With `skip` the warning is printed where `prints`.
    func requireFits(run: Double, prints: Bool = true, verdict: (_ process: Double, _ limit: MemoryLimit) -> String) throws {
        guard let limit = PhysicalMemory.limit else { return }
        let process = Double(residentBytes())
        guard run + process > Double(limit.bytes) else { return }
        try Self.refuse(verdict(process, limit), skip: skip, prints: prints)
    }

    /// The whole model in one process (`train --reference`; `bench ep`, whose ranks hold at most
    /// every MoE layer's experts between them).
    func requireFits(_ model: ModelConfiguration, prints: Bool = true) throws {
        try requireFits(run: model.memoryEstimate.total, prints: prints) { model.memoryRefusal(in: $1, process: $0) }
    }
}
