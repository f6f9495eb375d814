import CMPI

/// An MPI datatype handle. Only this module can make one; element types name theirs through `MPIScalar`.
public struct Datatype {
    let handle: MPI_Datatype
}

/// A Swift element type that maps one-to-one onto a predefined MPI datatype.
public protocol MPIScalar: AdditiveArithmetic {
    static var mpiDatatype: Datatype { get }
}

extension Float: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_float()) } }
extension Double: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_double()) } }
extension Int32: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_int32()) } }
extension Int64: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_int64()) } }
extension UInt8: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_uint8()) } }
// Swift's Int is 64 bits on every platform this package builds for.
extension Int: MPIScalar { public static var mpiDatatype: Datatype { Datatype(handle: cmpi_int64()) } }

/// Reduction operations for allreduce.
public enum ReductionOp: Sendable, CustomStringConvertible {
    case sum, max, min

    var handle: MPI_Op {
        switch self {
        case .sum: cmpi_op_sum()
        case .max: cmpi_op_max()
        case .min: cmpi_op_min()
        }
    }

    public var description: String {
        switch self {
        case .sum: "sum"
        case .max: "max"
        case .min: "min"
        }
    }
}
