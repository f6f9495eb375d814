#if canImport(Glibc)
import Glibc
#endif
import MPI

/// `bench schedules --shaped CMD --unshaped CMD`: rank 0's shell switches the link between the
/// nodes between rounds, so that every schedule's steps on the shaped and on the plain link
/// alternate in one run, and a slow spell of the machine falls on both alike.
struct LinkShaping {
    let shaped: String
    let unshaped: String

    struct CommandFailed: Error, CustomStringConvertible {
        /// `system`'s wait status: the exit code in bits 8 to 15, or a signal in the low 7 bits.
        let flag: String, command: String, status: Int32
        var description: String {
            let signal = status & 0x7f
            return "\(flag) '\(command)' " + (signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)")
        }
    }

    /// Runs `command` (`flag` names it in an error) on rank 0 while the other ranks wait, then
    /// lets the connections settle before any timed step: half a second for a frame lost while
    /// the link was rebuilt (TCP's retransmission timeout is about 200 ms), then a few rounds of
    /// activations of `messageFloats` around the ring of ranks over the new link. Collective.
    func apply(_ command: String, flag: String, world: Communicator, messageFloats: Int) throws {
        var status: Int32 = 0
        if world.rank == 0 {
            status = system(command)
            if status == 0 { usleep(500_000) }
        }
        let worst = try world.allreduce(Double(status), op: .max)
        guard worst == 0 else { throw CommandFailed(flag: flag, command: command, status: Int32(worst)) }
        guard world.size > 1 else { return }
        let outgoing = MessageBuffer<Float>(count: messageFloats, repeating: 0)
        let incoming = MessageBuffer<Float>(count: messageFloats, repeating: 0)
        let next = (world.rank + 1) % world.size, previous = (world.rank + world.size - 1) % world.size
        for _ in 0..<4 {
            for (to, from) in [(next, previous), (previous, next)] {
                let receive = try world.irecv(into: incoming, from: from, tag: 10)
                let send = try world.isend(outgoing, to: to, tag: 10)
                _ = try send.wait()
                _ = try receive.wait()
            }
        }
    }
}
