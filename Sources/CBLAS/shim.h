#ifndef SWIFT_DUALPIPE_CBLAS_SHIM_H
#define SWIFT_DUALPIPE_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface plus its configuration queries
// (openblas_get_config, openblas_get_num_threads, openblas_set_num_threads).
#include <cblas.h>
#endif
