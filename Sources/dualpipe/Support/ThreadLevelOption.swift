import ArgumentParser
import MPI

/// `--thread-level` as it is written on the command line. ThreadLevel itself is ordered by an Int
/// raw value, which ArgumentParser would show as the default ("default: 1"); this names the level.
enum ThreadLevelOption: String, CaseIterable, ExpressibleByArgument {
    case single, funneled, serialized, multiple

    var level: ThreadLevel {
        switch self {
        case .single: .single
        case .funneled: .funneled
        case .serialized: .serialized
        case .multiple: .multiple
        }
    }
}
