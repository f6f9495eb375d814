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

    @Test func errorDescriptionNamesCallSiteAndMessage() {
        let error = MPIError(code: 6, message: "MPI_ERR_RANK: invalid rank", call: "MPI_Isend(to: 9, tag: 0)",
                             file: "MPI/PointToPoint.swift", line: 42)
        #expect(error.description == "MPI_Isend(to: 9, tag: 0) failed at MPI/PointToPoint.swift:42: MPI_ERR_RANK: invalid rank (MPI error code 6)")
    }
}
