import ArgumentParser
import MPI

extension ThreadLevel: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "single": self = .single
        case "funneled": self = .funneled
        case "serialized": self = .serialized
        case "multiple": self = .multiple
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["single", "funneled", "serialized", "multiple"] }
}
