/// The heap policy of a training process, in two halves. Every micro-batch allocates the same
/// large tensors again, and fresh pages cost a page fault and a zero-fill each, so a rank keeps
/// what it frees (`keepFreedMemory`, once at the start); a checkpoint's save or restore of a large
/// model then leaves tens of MiB in the heap that no step reuses, which `returnFreedMemory` hands
/// back. glibc's `mallopt` and `malloc_trim` are declared in <malloc.h>, which the Glibc module
/// does not export, so both are looked up by name (`GlibcExtension`); elsewhere both do nothing.
public enum GlibcHeap {
    /// Large buffers (up to 512 MiB) from the heap rather than their own mappings, and the heap's
    /// top not trimmed below 1 GiB free, so freed tensors stay mapped for the next micro-batch.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        // Parameters from <malloc.h>: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let mallopt = GlibcExtension.function("mallopt", as: Mallopt.self) else { return }
        _ = mallopt(-3, 512 << 20)
        _ = mallopt(-1, 1 << 30)
        #endif
    }

    /// Hands the heap's free pages back to the system (`malloc_trim(0)`).
    public static func returnFreedMemory() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = GlibcExtension.function("malloc_trim", as: MallocTrim.self)?(0)
        #endif
    }
}
