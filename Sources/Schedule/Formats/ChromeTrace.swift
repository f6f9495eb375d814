extension Simulation {
    /// The timeline as a Chrome trace (JSON array format, opens in Perfetto or chrome://tracing):
    /// one thread per rank, one complete event per action; one time unit is shown as 1 ms.
    public func chromeTrace() -> String {
        var events: [String] = []
        events.append(#"{"name":"process_name","ph":"M","pid":0,"args":{"name":"\#(schedule.kind.title) \#(schedule.ranks)x\#(schedule.microBatches)"}}"#)
        for (rank, actions) in timeline.enumerated() {
            events.append(#"{"name":"thread_name","ph":"M","pid":0,"tid":\#(rank),"args":{"name":"rank \#(rank)"}}"#)
            for timed in actions {
                let a = timed.action
                let args = a.chunks.map { #"{"stage":\#($0.stage),"mb":\#($0.microBatch)}"# }.joined(separator: ",")
                events.append(#"{"name":"\#(a.description)","cat":"\#(a.op.rawValue)","ph":"X","pid":0,"tid":\#(rank),"ts":\#(fmt(timed.start * 1000)),"dur":\#(fmt((timed.end - timed.start) * 1000)),"args":{"chunks":[\#(args)]}}"#)
            }
        }
        return "[\n" + events.joined(separator: ",\n") + "\n]\n"
    }
}
