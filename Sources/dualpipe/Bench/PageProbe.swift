#if canImport(Glibc)
import Glibc
#endif
import Tensor

/// What the page size does to sgemm: the same products on buffers the kernel is asked to back
/// with 4 KiB pages and on buffers it is asked to back with 2 MiB transparent huge pages
/// (madvise), timed alternately in one process so that the machine's drift falls on both.
enum PageProbe {
    /// The products of one `--model mlp` block, `[tokens, hidden]` activations and
    /// `[hidden, 4 x hidden]` weights: F's two, B's input gradient through `down`, W's for `up`.
    struct Block {
        let tokens: Int, hidden: Int
        var inner: Int { 4 * hidden }
        var flops: Double { 2 * Double(tokens) * Double(hidden) * Double(inner) * 4 }
    }

    /// One set of buffers, advised `huge` or not. [tokens, hidden] x, y; [hidden, inner] up, dUp;
    /// [inner, hidden] down; [tokens, inner] u.
    private final class Buffers {
        let x, up, u, down, y, dUp: UnsafeMutablePointer<Float>
        private var regions: [(UnsafeMutableRawPointer, Int)] = []

        init(_ block: Block, huge: Bool) {
            func make(_ count: Int) -> (UnsafeMutablePointer<Float>, (UnsafeMutableRawPointer, Int)) {
                let alignment = 2 << 20, bytes = (count * MemoryLayout<Float>.size + alignment - 1) / alignment * alignment
                var raw: UnsafeMutableRawPointer?
                precondition(posix_memalign(&raw, alignment, bytes) == 0, "posix_memalign of \(bytes) bytes failed")
                // Advice before the first touch: the pages are chosen when they fault in.
                _ = madvise(raw, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)
                let floats = raw!.bindMemory(to: Float.self, capacity: count)
                for i in 0..<count { floats[i] = Float(i % 13) * 0.01 - 0.06 }
                return (floats, (raw!, bytes))
            }
            let h = block.hidden, t = block.tokens, f = block.inner
            var made: [(UnsafeMutableRawPointer, Int)] = []
            func take(_ count: Int) -> UnsafeMutablePointer<Float> { let (p, r) = make(count); made.append(r); return p }
            x = take(t * h); up = take(h * f); u = take(t * f); down = take(f * h); y = take(t * h); dUp = take(h * f)
            regions = made
        }

        deinit { for (raw, _) in regions { free(raw) } }

        func run(_ b: Block) {
            let (t, h, f) = (b.tokens, b.hidden, b.inner)
            BLAS.sgemm(m: t, n: f, k: h, a: x, b: up, c: u)                                  // u = x · up
            BLAS.sgemm(m: t, n: h, k: f, a: u, b: down, c: y)                                // y = u · down
            BLAS.sgemm(transposeB: true, m: t, n: f, k: h, a: y, b: down, c: u)              // du = dy · downᵀ
            BLAS.sgemm(transposeA: true, m: h, n: f, k: t, a: x, b: u, beta: 1, c: dUp)      // dUp += xᵀ · du
        }
    }

    /// Median seconds of one block's products on each kind of page over `rounds` alternations.
    static func time(_ block: Block, rounds: Int) -> (small: Double, huge: Double) {
        let small = Buffers(block, huge: false), huge = Buffers(block, huge: true)
        small.run(block); huge.run(block)  // fault every page in, pick kernels
        var smallTimes: [Double] = [], hugeTimes: [Double] = []
        for round in 0..<rounds {
            // Each round in the other order, so neither kind always follows the other.
            for useHuge in round % 2 == 0 ? [false, true] : [true, false] {
                let start = ContinuousClock.now
                (useHuge ? huge : small).run(block)
                let seconds = (ContinuousClock.now - start).inSeconds
                if useHuge { hugeTimes.append(seconds) } else { smallTimes.append(seconds) }
            }
        }
        return (median(smallTimes), median(hugeTimes))
    }
}
