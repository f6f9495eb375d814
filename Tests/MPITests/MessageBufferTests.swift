import Testing
@testable import MPI

@Suite struct MessageBufferTests {
    @Test func copyingKeepsTheValuesInOrder() {
        let buffer = MessageBuffer<Float>(copying: [1, 2, 3.5])
        #expect(buffer.count == 3)
        #expect(buffer.array == [1, 2, 3.5])
    }

    @Test func repeatingFillsEveryElement() {
        let buffer = MessageBuffer<Int32>(count: 4, repeating: -7)
        #expect(buffer.array == [-7, -7, -7, -7])
    }

    /// A request in flight keeps its buffer alive even after the caller lets go of it.
    @Test func requestKeepsItsBufferAlive() {
        weak var weakBuffer: MessageBuffer<Float>?
        var request: Request?
        do {
            let buffer = MessageBuffer<Float>(count: 8, repeating: 0)
            weakBuffer = buffer
            request = Request(handle: nil, keepAlive: [buffer], receiveDatatype: nil, label: "test")
        }
        #expect(weakBuffer != nil)
        _ = request
    }

    /// A part of a buffer sent or received in place must lie inside it; the error names the part.
    @Test func rangesMustLieInTheBuffer() throws {
        let buffer = MessageBuffer<Float>(count: 10, repeating: 0)
        #expect(try buffer.checkedRange(4..<10, "isend") == 4..<10)
        #expect(try buffer.checkedRange(10..<10, "isend") == 10..<10)
        #expect(throws: MPIUsageError.self) { try buffer.checkedRange(8..<11, "irecv") }
        do {
            _ = try buffer.checkedRange(8..<11, "irecv")
        } catch {
            #expect("\(error)".contains("irecv: elements 8..<11 do not lie in a buffer of 10"))
        }
    }

    @Test func errorDescriptionNamesCallSiteAndMessage() {
        let error = MPIError(code: 6, message: "MPI_ERR_RANK: invalid rank", call: "MPI_Isend(to: 9, tag: 0)",
                             file: "MPI/PointToPoint.swift", line: 42)
        #expect(error.description == "MPI_Isend(to: 9, tag: 0) failed at MPI/PointToPoint.swift:42: MPI_ERR_RANK: invalid rank (MPI error code 6)")
    }
}
