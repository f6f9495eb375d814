import Testing
@testable import Schedule

/// Broken schedules are caught, with the rule named and the failing step marked in the grid.
@Suite struct ValidationFailureTests {
    private func failure(_ body: () throws -> Void) -> ScheduleValidationError? {
        do { try body(); return nil } catch let e as ScheduleValidationError { return e } catch { return nil }
    }

    private func schedule(_ kind: ScheduleKind, _ n: Int, _ m: Int, editing edit: (inout [[Action]]) -> Void) throws -> Schedule {
        let good = try Schedule.generate(kind: kind, ranks: n, microBatches: m)
        var program = good.program
        edit(&program)
        return Schedule(configuration: good.configuration, program: program)
    }

    @Test func backwardBeforeItsForwardIsCaught() throws {
        let broken = try schedule(.oneFOneB, 2, 2) { p in p[1].swapAt(0, 1) }   // BW1:0 before F1:0
        let error = try #require(failure { try broken.validate() })
        #expect(error.rule == "inputs produced before use")
        #expect(error.grid.contains(">>BW1:0<<"))
        #expect(error.description.contains("rank 1 step 0"))
    }

    @Test func weightGradientBeforeItsBIsCaught() throws {
        let broken = try schedule(.zb1p, 2, 2) { p in
            let b = p[0].firstIndex(of: .backwardInput(Chunk(stage: 0, microBatch: 0)))!
            let w = p[0].firstIndex(of: .backwardWeight(Chunk(stage: 0, microBatch: 0)))!
            p[0].swapAt(b, w)
        }
        let error = try #require(failure { try broken.validate() })
        #expect(error.rule == "inputs produced before use")
        #expect(error.grid.contains(">>W0:0<<"))
    }

    @Test func missingWeightGradientIsCaught() throws {
        let broken = try schedule(.dualpipe, 4, 8) { p in
            p[0].removeAll { $0 == .backwardWeight(Chunk(stage: 3, microBatch: 4)) }
        }
        let error = try #require(failure { try broken.validate() })
        #expect(error.rule.contains("one W per split backward"))
        #expect(error.detail.contains("3:4") && error.detail.contains("0 W"))
        #expect(error.grid.contains(">>B3:4<<"))
    }

    @Test func actionOnTheWrongRankIsCaught() throws {
        let broken = try schedule(.dualpipev, 2, 4) { p in
            p[1].append(.forward(Chunk(stage: 0, microBatch: 3)))
        }
        let error = try #require(failure { try broken.validate() })
        #expect(error.rule == "stage ownership")
        #expect(error.detail.contains("belongs to rank 0"))
    }

    @Test func deadlockIsCaughtAndMarked() throws {
        // Two ranks that each wait for the other's message before sending their own.
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1)
        let good = s.lowered()
        let act = Transfer(payload: .activation, source: 0, destination: 1, chunk: Chunk(stage: 1, microBatch: 0))
        let grad = Transfer(payload: .gradient, source: 1, destination: 0, chunk: Chunk(stage: 0, microBatch: 0))
        let rank0: [Instruction] = [.postReceive(grad), .waitReceive(grad), .compute(.forward(Chunk(stage: 0, microBatch: 0))),
                                    .postSend(act), .waitSend(act), .compute(.backward(Chunk(stage: 0, microBatch: 0)))]
        let bad = LoweredSchedule(schedule: s, programs: [rank0, good.programs[1]])
        let error = try #require(failure { try bad.validate() })
        #expect(error.rule == "deadlock freedom")
        #expect(error.detail.contains("rank 0 waits to receive") && error.detail.contains("rank 1 waits to receive"))
        #expect(error.grid.contains(">>F0:0<<") && error.grid.contains(">>F1:0<<"))
    }

    @Test func sendWithoutReceiveIsCaught() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1)
        let good = s.lowered()
        let rank1 = good.programs[1].filter {
            if case .postReceive(let t) = $0, t.payload == .activation { return false }
            if case .waitReceive(let t) = $0, t.payload == .activation { return false }
            return true
        }
        let error = try #require(failure { try LoweredSchedule(schedule: s, programs: [good.programs[0], rank1]).validate() })
        #expect(error.rule == "every send has one matching receive")
        #expect(error.detail.contains("act(1:0) 0->1"))
    }
}

/// The lowered programs must compute exactly the schedule's actions, each after its messages arrived.
@Suite struct LoweredComputeFailureTests {
    private func failure(_ body: () throws -> Void) -> ScheduleValidationError? {
        do { try body() } catch let error as ScheduleValidationError { return error } catch {}
        return nil
    }

    private let schedule = try! Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 2)

    @Test func computeBeforeItsReceiveIsCaught() throws {
        let good = schedule.lowered()
        // Move rank 1's first wait for an activation after the compute that consumes it.
        var rank1 = good.programs[1]
        let wait = try #require(rank1.firstIndex { if case .waitReceive = $0 { true } else { false } })
        let compute = try #require(rank1[wait...].firstIndex { if case .compute = $0 { true } else { false } })
        let moved = rank1.remove(at: wait)
        rank1.insert(moved, at: compute)
        let error = try #require(failure { try LoweredSchedule(schedule: schedule, programs: [good.programs[0], rank1]).validate() })
        #expect(error.rule == "receives waited for before use")
        #expect(error.detail.contains("rank 1 computes F1:0 before waiting for act(1:0) 0->1"))
        #expect(error.grid.contains(">>F1:0<<"))
    }

    @Test func missingComputeIsCaught() throws {
        let good = schedule.lowered()
        var rank0 = good.programs[0]
        let last = try #require(rank0.lastIndex { if case .compute = $0 { true } else { false } })
        rank0.remove(at: last)
        let error = try #require(failure { try LoweredSchedule(schedule: schedule, programs: [rank0, good.programs[1]]).validate() })
        #expect(error.rule == "computes follow the program")
        #expect(error.detail == "rank 0 computes 3 of its 4 actions")
    }

    @Test func computesOutOfOrderAreCaught() throws {
        let good = schedule.lowered()
        let computes = good.programs[0].indices.filter { if case .compute = good.programs[0][$0] { true } else { false } }
        var rank0 = good.programs[0]
        rank0.swapAt(computes[0], computes[1])
        let error = try #require(failure { try LoweredSchedule(schedule: schedule, programs: [rank0, good.programs[1]]).validate() })
        #expect(error.rule == "computes follow the program")
        #expect(error.detail.hasPrefix("rank 0 computes"))
    }

    @Test func sendBeforeItsComputeIsCaught() throws {
        let good = schedule.lowered()
        var rank0 = good.programs[0]
        let send = try #require(rank0.firstIndex { if case .postSend = $0 { true } else { false } })
        let moved = rank0.remove(at: send)
        rank0.insert(moved, at: 0)
        let error = try #require(failure { try LoweredSchedule(schedule: schedule, programs: [rank0, good.programs[1]]).validate() })
        #expect(error.rule == "sends after the compute that produces them")
        #expect(error.detail.contains("rank 0 posts act(1:0) 0->1 tag 0 before computing it"))
    }
}
