/// Sort key: larger load first, then smaller index, so that `sort()` gives a stable descending order by load
/// (what eplb.py gets from torch's stable sort). A concrete `<` instead of a closure keeps the sorts fast.
/// `Load` is Double in the balanced policy and Float in the reference, which follows eplb.py's float32.
struct HeavierFirst<Load: BinaryFloatingPoint>: Comparable {
    var load: Load
    var index: Int  // the expert or item the load belongs to

    static func < (a: HeavierFirst, b: HeavierFirst) -> Bool {
        a.load > b.load || (a.load == b.load && a.index < b.index)
    }
}
