/// Hard limits on each value of a `ModelConfiguration` (docs/inputs.md). They are far above any
/// model this program trains on CPU cores; they exist so that the arithmetic on the values (widths
/// times widths times experts, tokens per micro-batch) can never overflow and nothing is sized from
/// an absurd number. What actually fits is decided by the memory estimate against the machine.
public enum ModelLimits {
    /// hidden, ffn hidden, expert hidden: 2^20.
    public static let width = 1 << 20
    /// Transformer blocks: each is its own set of objects and stage bookkeeping.
    public static let layers = 1024
    /// Routed experts per MoE layer: 2^16 (DeepSeek-V3 has 256).
    public static let experts = 1 << 16
    /// Tokens per sequence and sequences per micro-batch: 2^20 each.
    public static let sequenceLength = 1 << 20
    public static let microBatchSize = 1 << 20
}
