import Schedule

/// The measured step drawn like the schedule picture (a row per pipeline rank, each action's box
/// at its measured start and length, in milliseconds, then the phases after the schedule in
/// grey), one picture per EP rank, with the simulated timeline of the same schedule beneath,
/// costed by the measured mean of each action kind.
public enum TraceSVG {
    public static func svg(timelines: [[TimelineEvent]], grid: GridShape, schedule: Schedule) throws -> String {
        var timed: [[[TimedAction]]] = [] // [ep][pp][actions]
        var durations: [Action.Op: [Double]] = [:]
        let afterSchedule = (0..<grid.expert).map { ep in // [ep][pp][phases]
            (0..<grid.pipeline).map { pp in
                timelines[grid.worldRank(pipeline: pp, expert: ep)].filter { $0.kind == .update }
                    .map { StepSpan(name: $0.name, start: $0.start * 1000, end: $0.end * 1000) }
            }
        }
        for ep in 0..<grid.expert {
            timed.append(try (0..<grid.pipeline).map { pp in
                try timelines[grid.worldRank(pipeline: pp, expert: ep)].filter { $0.kind == .compute }.map { span in
                    guard let action = Action(span.name) else { throw PipelineError("trace span '\(span.name)' is not an action") }
                    durations[action.op, default: []].append(span.busySeconds * 1000)
                    return TimedAction(action: action, start: span.start * 1000, end: span.end * 1000)
                }
            })
        }
        let costs = Costs(measured: durations)
        var parts = timed.enumerated().map { ep, timeline in
            var run = Simulation(measured: schedule, costs: costs, timeline: timeline)
            run.otherWork = afterSchedule[ep]
            let whole = afterSchedule[ep].joined().map(\.end).max().map { ", \(fmtMs(max($0, run.makespan))) ms with the phases after it (grey)" } ?? ""
            return run.svg(title: "measured, EP rank \(ep) of \(grid.expert): \(schedule.kind.title), \(schedule.ranks) pipeline ranks, \(schedule.microBatches) micro-batches; schedule \(fmtMs(run.makespan)) ms\(whole), busy \(percent(run))")
        }
        let simulated = try schedule.simulate(costs)
        parts.append(simulated.svg(title: "simulated with the measured mean costs: makespan \(fmtMs(simulated.makespan)) ms, busy \(percent(simulated))"))
        return stackedSVG(parts)
    }

    private static func fmtMs(_ v: Double) -> String { String(Int(v.rounded())) }

    private static func percent(_ s: Simulation) -> String {
        guard s.makespan > 0 else { return "-" }
        let share = s.busy.reduce(0, +) / (Double(s.busy.count) * s.makespan)
        return "\(Int((share * 100).rounded()))%"
    }
}
