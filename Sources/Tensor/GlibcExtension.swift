#if canImport(Glibc)
import Glibc
#endif

/// glibc functions that its <malloc.h> or _GNU_SOURCE declare and the Glibc module does not
/// export (`mallopt`, `malloc_trim`, `sched_getaffinity`), looked up by name in the process.
public enum GlibcExtension {
    /// The function `name` as `type` (a `@convention(c)` function type), nil where the C library
    /// has none (elsewhere than glibc).
    public static func function<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
        #else
        nil
        #endif
    }
}
