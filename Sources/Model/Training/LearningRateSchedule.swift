#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Linear warmup, then cosine decay: steps `0..<warmup` ramp from `peak/warmup` up to `peak`;
/// from `warmup` to `total` the rate follows half a cosine from `peak` down to `minimum`;
/// after `total` it stays at `minimum`.
public struct LearningRateSchedule: Sendable, Equatable {
    public var peak: Float
    public var minimum: Float
    public var warmup: Int
    public var total: Int

    public init(peak: Float, minimum: Float, warmup: Int, total: Int) {
        self.peak = peak
        self.minimum = minimum
        self.warmup = warmup
        self.total = total
    }

    /// The learning rate of step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        guard total > warmup else { return peak }
        let progress = min(1, Double(step - warmup) / Double(total - warmup))
        return minimum + Float(0.5 * (1 + cos(Double.pi * progress))) * (peak - minimum)
    }
}
