import Foundation

/// Hands the heap's free pages back to the system, after a checkpoint's restore or a save that
/// grew the heap. The run keeps freed memory in its heap on purpose (ComputeSetup's mmap and trim
/// thresholds: no page faults for the buffers every step frees and takes again), so the tens of
/// MiB a save or a restore of a large model used would otherwise stay resident for the rest of
/// the run.
func returnFreedHeapMemory() {
    #if canImport(Glibc)
    // malloc_trim is declared in <malloc.h>, which the Glibc module does not export.
    typealias MallocTrim = @convention(c) (Int) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }
    #endif
}
