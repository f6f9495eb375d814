#ifndef SWIFT_DUALPIPE_CMPI_SHIM_H
#define SWIFT_DUALPIPE_CMPI_SHIM_H
// MPI's handles and constants are C macros (often casts of the addresses of
// library globals), which Swift cannot import. Each one the project needs is
// turned into a static inline function here, and nothing else happens here.
#include <mpi.h>

// Predefined communicators.
static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cmpi_comm_self(void) { return MPI_COMM_SELF; }
static inline MPI_Comm cmpi_comm_null(void) { return MPI_COMM_NULL; }

// Datatypes.
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype cmpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }

// Reduction operations.
static inline MPI_Op cmpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op cmpi_op_min(void) { return MPI_MIN; }

// Requests and statuses.
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *cmpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int cmpi_any_tag(void) { return MPI_ANY_TAG; }
static inline int cmpi_proc_null(void) { return MPI_PROC_NULL; }
static inline int cmpi_tag_ub_key(void) { return MPI_TAG_UB; }

// Thread levels.
static inline int cmpi_thread_single(void) { return MPI_THREAD_SINGLE; }
static inline int cmpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int cmpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int cmpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }

// Integer datatypes a control variable (MPI_T) may have.
static inline MPI_Datatype cmpi_int(void) { return MPI_INT; }
static inline MPI_Datatype cmpi_unsigned(void) { return MPI_UNSIGNED; }
static inline MPI_Datatype cmpi_long(void) { return MPI_LONG; }
static inline MPI_Datatype cmpi_unsigned_long(void) { return MPI_UNSIGNED_LONG; }
static inline MPI_Datatype cmpi_long_long(void) { return MPI_LONG_LONG; }
static inline MPI_Datatype cmpi_unsigned_long_long(void) { return MPI_UNSIGNED_LONG_LONG; }

// The tools interface (MPI_T).
static inline int cmpi_t_err_invalid_name(void) { return MPI_T_ERR_INVALID_NAME; }

// Info objects.
static inline MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }

// Error handling and miscellany.
static inline int cmpi_success(void) { return MPI_SUCCESS; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cmpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline int cmpi_undefined(void) { return MPI_UNDEFINED; }
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int cmpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int cmpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }

#endif
