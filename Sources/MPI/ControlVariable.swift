import CMPI

/// The library's control variables, read through MPI's tools interface (MPI_T): the value MPI
/// runs with, whoever set it (its default, a parameter file, the environment, `mpirun --mca`).
public enum ControlVariable {
    /// The value of the integer control variable `name` (Open MPI's "btl_tcp_eager_limit", say),
    /// or nil where this library has none of that name (a component not opened registers none)
    /// or it is not one integer. Callable once MPI is initialised, from any thread level.
    public static func integer(_ name: String) throws -> Int? {
        var provided: Int32 = 0
        try check(MPI_T_init_thread(cmpi_thread_single(), &provided), "MPI_T_init_thread")
        defer { MPI_T_finalize() }
        var index: Int32 = 0
        let lookup = MPI_T_cvar_get_index(name, &index)
        if lookup == cmpi_t_err_invalid_name() { return nil }
        try check(lookup, "MPI_T_cvar_get_index(\(name))")

        var datatype: MPI_Datatype?, enumeration: MPI_T_enum?
        var verbosity: Int32 = 0, binding: Int32 = 0, scope: Int32 = 0, nameLength: Int32 = 0, descriptionLength: Int32 = 0
        try check(MPI_T_cvar_get_info(index, nil, &nameLength, &verbosity, &datatype, &enumeration, nil, &descriptionLength,
                                      &binding, &scope), "MPI_T_cvar_get_info(\(name))")
        let signed = [cmpi_int(), cmpi_long(), cmpi_long_long()], unsigned = [cmpi_unsigned(), cmpi_unsigned_long(), cmpi_unsigned_long_long()]
        guard let datatype, (signed + unsigned).contains(datatype) else { return nil }
        var size: Int32 = 0
        try check(MPI_Type_size(datatype, &size), "MPI_Type_size")

        var handle: MPI_T_cvar_handle?, count: Int32 = 0
        try check(MPI_T_cvar_handle_alloc(index, nil, &handle, &count), "MPI_T_cvar_handle_alloc(\(name))")
        defer { MPI_T_cvar_handle_free(&handle) }
        guard count == 1 else { return nil }
        var bytes = (UInt64(0), UInt64(0))  // room for any integer type, aligned
        try withUnsafeMutableBytes(of: &bytes) { buffer in
            try check(MPI_T_cvar_read(handle, buffer.baseAddress), "MPI_T_cvar_read(\(name))")
        }
        return withUnsafeBytes(of: bytes) { buffer in
            let isSigned = signed.contains(datatype)
            return switch size {
            case 4: isSigned ? Int(buffer.load(as: Int32.self)) : Int(buffer.load(as: UInt32.self))
            case 8: isSigned ? Int(buffer.load(as: Int64.self)) : Int(truncatingIfNeeded: buffer.load(as: UInt64.self))
            default: nil
            }
        }
    }
}
