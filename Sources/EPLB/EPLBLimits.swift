/// Size limits of a placement (docs/inputs.md), far above DeepSeek-V3's 58 layers x 288 slots on
/// 32 to 256 ranks. Measured on one core: a layer of 65,536 slots takes about 2 s to place, and a
/// layer's per-rank tables take 8 bytes per logical expert and rank, so these keep one request to
/// well under a minute and a few hundred MiB.
public enum EPLBLimits {
    /// Ranks of one placement: 2^16.
    public static let ranks = 1 << 16
    /// Physical slots per layer: 2^16.
    public static let replicas = 1 << 16
    /// Physical slots over all layers (layers x replicas), and loads (layers x experts): 2^20.
    public static let slots = 1 << 20
    /// Logical experts x ranks, the size of a layer's per-rank tables: 2^24.
    public static let expertsTimesRanks = 1 << 24

    /// Refuses more than `slots` slots or loads in all. Counts below 1 are refused elsewhere; the
    /// product is compared without being formed, so it cannot overflow.
    public static func check(layers: Int, perLayer: Int, what: String) throws {
        guard layers > 0, perLayer > 0, layers > slots / perLayer else { return }
        throw EPLBError("\(layers) layers x \(perLayer) \(what) exceeds the limit of \(slots) \(what) in all (docs/inputs.md)")
    }
}

extension ClusterShape {
    /// The limits that need the layer count: layers x replicas slots in all.
    public func validateSize(layers: Int) throws {
        try EPLBLimits.check(layers: layers, perLayer: replicas, what: "slots")
    }
}
