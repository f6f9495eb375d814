import Tensor

#if canImport(Glibc)
import Glibc
#endif

/// One rank, one core: unless the user set OPENBLAS_NUM_THREADS, each rank's OpenBLAS runs on one
/// thread, so that 8 ranks on 8 cores do not start 64 BLAS threads that fight for them.
func pinBLASThreadsPerRank() {
    if getenv("OPENBLAS_NUM_THREADS") == nil { BLAS.setThreadCount(1) }
}
