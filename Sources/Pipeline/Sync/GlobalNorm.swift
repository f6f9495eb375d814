import MPI
import Model

/// The global gradient norm over the model's unique parameters: each pipeline rank adds the sums
/// of squares of its primary stages (DualPipe's second copy of a stage is not counted again),
/// and the pipeline communicator sums them. After the gradient sync every EP rank computes the
/// same value.
public enum GlobalNorm {
    public static func compute(primary stages: [Stage], pipeline: Communicator) throws -> Double {
        let local = stages.sorted { $0.index < $1.index }.reduce(0.0) { $0 + GradientClipping.sumOfSquares($1) }
        return try pipeline.allreduce(local, op: .sum).squareRoot()
    }
}
