/// What a run's messages travel over, for its first line: through ob1, the TCP eager limit between
/// nodes and, where ranks share a node, the shared-memory single copy; through another PML (UCX on
/// an InfiniBand cluster), its name, as neither setting applies there. Call after MPI starts.
enum MessageTransports {
    /// Lets one message of `bytes` (an activation) go eagerly over TCP and, where the user turned
    /// the single copy off, through shared memory. Call before MPI starts.
    static func prepare(forMessagesOf bytes: Int) {
        TCPEagerLimit.raise(toFit: bytes)
        SharedMemoryEagerLimit.raise(toFit: bytes)
    }

    static var description: String {
        let layer = PointToPointLayer.current()
        if !layer.usesByteTransports, let pml = layer.name {
            let transports = pml == "ucx" ? "UCX's own transports" : "its MTL's transports"
            return "messages through pml \(pml) (\(transports); Open MPI's TCP eager limit and shared-memory single copy unused)"
        }
        return [TCPEagerLimit.description, SharedMemoryCopy.description].compactMap { $0 }.joined(separator: "; ")
    }
}
