import Foundation
import Pipeline
import Schedule

extension TrainCommand {
    /// Writes the traced step's timelines where --trace (Chrome/Perfetto JSON, titled `title`) and
    /// --trace-svg (the measured timeline over the simulated one) ask, and says where.
    func writeTrace(_ timelines: [[TimelineEvent]], title: String, grid: GridShape, schedule: Schedule, step: Int) throws {
        if let path = output.trace {
            try ChromeTrace.json(timelines: timelines, grid: grid, title: title).write(to: URL(fileURLWithPath: path))
            print("trace of step \(step): \(path)")
        }
        if let path = output.traceSVG {
            let svg = try TraceSVG.svg(timelines: timelines, grid: grid, schedule: schedule)
            try Data(svg.utf8).write(to: URL(fileURLWithPath: path))
            print("timeline of step \(step): \(path)")
        }
    }
}
