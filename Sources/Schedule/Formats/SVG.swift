import Foundation

extension Simulation {
    /// A picture of the timeline: a row per rank, a box per action coloured by kind (F orange,
    /// B green, W blue, BW teal) and direction (dark: down / first leg, light: up / way back),
    /// labelled with its micro-batch. An FB pair is one box with a shared black border, split in
    /// proportion F : BW. `title` replaces the default heading (kind, shape, makespan, bubble).
    ///
    /// The step's other work (`otherWork`, or the sums of `wholeStep`) is drawn in grey: after a
    /// rank's actions as labelled boxes, alongside them as a bar beneath the row.
    public func svg(title: String? = nil) -> String {
        let s = schedule
        let left = 96.0, top = 40.0, rowHeight = 28.0, boxHeight = 22.0
        let whole = wholeStep
        let other = otherWork.isEmpty ? whole?.spans(ranks: s.ranks) ?? [] : otherWork
        let otherSpans = Array(other.joined())
        let end = max(makespan, otherSpans.map(\.end).max() ?? 0)
        let unit = max(4, min(26, 1500 / max(end, 1)))
        let width = left + end * unit + 20
        let height = top + Double(s.ranks) * rowHeight + 56 + (otherSpans.isEmpty ? 0 : 18)
        var out: [String] = []
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(fmt(width))" height="\#(fmt(height))" viewBox="0 0 \#(fmt(width)) \#(fmt(height))" font-family="Helvetica, Arial, sans-serif">"#)
        out.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        out.append(#"<text x="\#(fmt(left))" y="22" font-size="15" font-weight="bold">\#(title ?? "\(s.kind.title): \(s.ranks) ranks, \(s.stages) stages, \(s.microBatches) micro-batches; makespan \(fmt(makespan)), bubble \(fmt(bubble))" + (whole.map { "; whole step \(fmt($0.makespan)) with the gradient sums" } ?? ""))</text>"#)
        for (rank, actions) in timeline.enumerated() {
            let y = top + Double(rank) * rowHeight
            out.append(#"<text x="8" y="\#(fmt(y + boxHeight * 0.72))" font-size="13">rank \#(rank)</text>"#)
            out.append(#"<line x1="\#(fmt(left))" y1="\#(fmt(y + boxHeight / 2))" x2="\#(fmt(left + makespan * unit))" y2="\#(fmt(y + boxHeight / 2))" stroke="gainsboro"/>"#)
            for timed in actions {
                let x = left + timed.start * unit, w = (timed.end - timed.start) * unit
                switch timed.action {
                case .forwardBackward(let f, let b):
                    let share = costs.forward / max(costs.forward + costs.backward, .ulpOfOne)
                    out.append(box(x, y, w * share, boxHeight, colour(.F, f), label(f)))
                    out.append(box(x + w * share, y, w * (1 - share), boxHeight, colour(.BW, b), label(b)))
                    out.append(#"<rect x="\#(fmt(x))" y="\#(fmt(y))" width="\#(fmt(w))" height="\#(fmt(boxHeight))" fill="none" stroke="black" stroke-width="2"/>"#)
                default:
                    let c = timed.action.chunks[0]
                    out.append(box(x, y, w, boxHeight, colour(timed.action.op, c), label(c)))
                }
            }
            for span in rank < other.count ? other[rank] : [] {
                let x = left + span.start * unit, w = max(1, (span.end - span.start) * unit)
                out.append(span.alongside
                    ? #"<rect x="\#(fmt(x))" y="\#(fmt(y + boxHeight + 1))" width="\#(fmt(w))" height="4" fill="\#(Self.otherWorkFill)"><title>\#(span.name)</title></rect>"#
                    : box(x, y, w, boxHeight, Self.otherWorkFill, w >= 6 * Double(span.name.count) ? span.name : ""))
            }
        }
        let legendY = top + Double(s.ranks) * rowHeight + 14
        var x = left
        for (name, op) in [("F forward", Action.Op.F), ("B input gradient", .B), ("W weight gradient", .W), ("BW full backward", .BW)] {
            out.append(box(x, legendY, 18, 14, palette(op, second: false), ""))
            out.append(box(x + 18, legendY, 18, 14, palette(op, second: true), ""))
            out.append(#"<text x="\#(fmt(x + 42))" y="\#(fmt(legendY + 11))" font-size="12">\#(name)</text>"#)
            x += 170
        }
        out.append(#"<rect x="\#(fmt(x))" y="\#(fmt(legendY))" width="36" height="14" fill="none" stroke="black" stroke-width="2"/>"#)
        out.append(#"<text x="\#(fmt(x + 42))" y="\#(fmt(legendY + 11))" font-size="12">F&amp;B overlapped pair</text>"#)
        if !otherSpans.isEmpty {
            out.append(box(left, legendY + 42, 36, 14, Self.otherWorkFill, ""))
            out.append(#"<text x="\#(fmt(left + 42))" y="\#(fmt(legendY + 53))" font-size="12">\#(otherSpans.contains(where: \.alongside) ? "the rest of the step: after a rank's actions, or as a bar beneath them while they run" : "the rest of the step, after a rank's actions")</text>"#)
        }
        out.append(#"<text x="\#(fmt(left))" y="\#(fmt(legendY + 32))" font-size="11" fill="dimgray">dark: \#(directionNames.0), light: \#(directionNames.1); labels are micro-batch ids; costs F=\#(fmt(costs.forward)) B=\#(fmt(costs.backwardInput)) W=\#(fmt(costs.backwardWeight)) BW=\#(fmt(costs.backward)) FB=\#(fmt(costs.forwardBackward))</text>"#)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private static let otherWorkFill = "#c4c4c4"

    private var directionNames: (String, String) {
        switch schedule.kind {
        case .dualpipe: ("entered at rank 0", "entered at the last rank")
        case .dualpipev, .zbv: ("way down (stages &lt; N)", "way back (stages &gt;= N)")
        case _ where schedule.kind.isLooped && schedule.stagesPerRank > 2: ("odd passes over the ranks (first, third, ...)", "even passes (second, fourth, ...)")
        case _ where schedule.kind.isLooped: ("first pass (stages &lt; N)", "second pass (stages &gt;= N)")
        default: ("all micro-batches", "(unused)")
        }
    }

    /// Whether a chunk travels in the second direction (DualPipe: entered at the last rank;
    /// DualPipeV and ZB-V: on the way back; the looped kinds: on an even pass over the ranks, so
    /// that neighbouring laps differ).
    private func isSecondDirection(_ c: Chunk) -> Bool {
        switch schedule.kind {
        case .dualpipe: c.microBatch >= schedule.microBatches / 2
        case .dualpipev, .zbv: c.stage >= schedule.ranks
        case _ where schedule.kind.isLooped: c.stage / schedule.ranks % 2 == 1
        default: false
        }
    }

    private func colour(_ op: Action.Op, _ c: Chunk) -> String { palette(op, second: isSecondDirection(c)) }

    private func palette(_ op: Action.Op, second: Bool) -> String {
        switch op {
        case .F, .FB: second ? "#ffc98f" : "#f28e2b"
        case .B: second ? "#a6dc98" : "#4e9a43"
        case .W: second ? "#a9cdea" : "#3f6f9f"
        case .BW: second ? "#9fd3cc" : "#2a8074"
        }
    }

    private func label(_ c: Chunk) -> String { String(c.microBatch) }

    private func box(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ fill: String, _ text: String) -> String {
        var s = #"<rect x="\#(fmt(x))" y="\#(fmt(y))" width="\#(fmt(w))" height="\#(fmt(h))" fill="\#(fill)" stroke="white" stroke-width="0.5"/>"#
        if !text.isEmpty && w >= 8 {
            let size = min(11, max(6, w * 0.55))
            s += #"<text x="\#(fmt(x + w / 2))" y="\#(fmt(y + h / 2 + size * 0.35))" font-size="\#(fmt(size))" text-anchor="middle">\#(text)</text>"#
        }
        return s
    }
}

/// SVG pictures stacked top to bottom in one SVG, each keeping its own size: the measured
/// timeline over the simulated one, say. Each part must be a whole `<svg width=.. height=..>` document.
public func stackedSVG(_ parts: [String]) -> String {
    func dimension(_ name: String, _ svg: String) -> Double {
        guard let range = svg.range(of: " \(name)=\""),
              let end = svg[range.upperBound...].firstIndex(of: "\"") else { return 0 }
        return Double(svg[range.upperBound..<end]) ?? 0
    }
    let width = parts.map { dimension("width", $0) }.max() ?? 0
    var y = 0.0, body: [String] = []
    for part in parts {
        body.append(part.replacingFirst("<svg ", with: "<svg y=\"\(fmt(y))\" "))
        y += dimension("height", part)
    }
    return #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(fmt(width))" height="\#(fmt(y))" viewBox="0 0 \#(fmt(width)) \#(fmt(y))">"#
        + "\n" + body.joined() + "</svg>\n"
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}

/// Numbers in SVG and trace output: integers without a fraction, others to two decimals.
func fmt(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    let scaled = (v * 100).rounded() / 100
    return String(scaled)
}
