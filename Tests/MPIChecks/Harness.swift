import MPI

/// A check of MPI behaviour that every rank runs together. It throws `CheckFailure` when a value is wrong.
struct Check: Sendable {
    let name: String
    let body: @Sendable (Communicator) throws -> Void
}

struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

/// Fails the running check with `message` unless `condition` holds.
func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(description: message()) }
}

/// Fails unless `actual` equals `expected` element by element, naming the first index that differs.
func expectEqual<T: Equatable>(_ actual: [T], _ expected: [T], _ what: String) throws {
    try expect(actual.count == expected.count, "\(what): got \(actual.count) elements, expected \(expected.count)")
    if let index = zip(actual, expected).firstIndex(where: { $0 != $1 }) {
        throw CheckFailure(description: "\(what): element \(index) is \(actual[index]), expected \(expected[index])")
    }
}

extension Zip2Sequence {
    func firstIndex(where predicate: ((Sequence1.Element, Sequence2.Element)) -> Bool) -> Int? {
        for (index, pair) in enumerated() where predicate(pair) { return index }
        return nil
    }
}

/// Runs the checks in order on every rank. A failing check is printed by the rank that saw it and
/// ends the job (the error escapes to `Environment.run`, which aborts). Rank 0 reports each pass
/// once all ranks have finished it.
func runChecks(_ checks: [Check], on world: Communicator) throws {
    for check in checks {
        do {
            try check.body(world)
        } catch {
            throw CheckFailure(description: "FAIL \(check.name) on rank \(world.rank) of \(world.size): \(error)")
        }
        try world.barrier()
        if world.rank == 0 { print("ok   \(check.name)") }
    }
    if world.rank == 0 { print("mpi-checks: \(checks.count) passed, 0 failed (\(world.size) ranks)") }
}
