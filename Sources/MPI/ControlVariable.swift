import CMPI

/// The library's control variables, read through MPI's tools interface (MPI_T): the value MPI
/// runs with, whoever set it (its default, a parameter file, the environment, `mpirun --mca`).
/// Callable once MPI is initialised, from any thread level.
public enum ControlVariable {
    /// The value of the integer control variable `name` (Open MPI's "btl_tcp_eager_limit", say),
    /// or nil where this library has none of that name (a component not opened registers none)
    /// or it is not one integer.
    public static func integer(_ name: String) throws -> Int? {
        try withToolsInterface { try read(name)?.value }
    }

    /// The name of the value of the enumerated control variable `name` (Open MPI's
    /// "btl_vader_single_copy_mechanism" reads "cma", "emulated" or "none"), or nil where this
    /// library has none of that name or it is not an integer with named values.
    public static func enumerated(_ name: String) throws -> String? {
        try withToolsInterface {
            guard let (value, enumeration) = try read(name), let enumeration else { return nil }
            var items: Int32 = 0, enumerationNameLength: Int32 = 0
            try check(MPI_T_enum_get_info(enumeration, &items, nil, &enumerationNameLength), "MPI_T_enum_get_info(\(name))")
            for item in 0..<items {
                var itemValue: Int32 = 0
                var buffer = [CChar](repeating: 0, count: 256)
                var length = Int32(buffer.count)
                try check(MPI_T_enum_get_item(enumeration, item, &itemValue, &buffer, &length), "MPI_T_enum_get_item(\(name), \(item))")
                if Int(itemValue) == value { return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            }
            return String(value)  // a value the enumeration does not name
        }
    }

    private static func withToolsInterface<T>(_ body: () throws -> T) throws -> T {
        var provided: Int32 = 0
        try check(MPI_T_init_thread(cmpi_thread_single(), &provided), "MPI_T_init_thread")
        defer { MPI_T_finalize() }
        return try body()
    }

    /// The variable's one integer and the enumeration that names its values (nil: none), or nil
    /// where there is no such variable or it is not one integer. Inside `withToolsInterface`.
    private static func read(_ name: String) throws -> (value: Int, enumeration: MPI_T_enum?)? {
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
        let value: Int? = withUnsafeBytes(of: bytes) { buffer in
            let isSigned = signed.contains(datatype)
            return switch size {
            case 4: isSigned ? Int(buffer.load(as: Int32.self)) : Int(buffer.load(as: UInt32.self))
            case 8: isSigned ? Int(buffer.load(as: Int64.self)) : Int(truncatingIfNeeded: buffer.load(as: UInt64.self))
            default: nil
            }
        }
        return value.map { ($0, enumeration) }
    }
}
