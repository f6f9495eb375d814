// Only Glibc here, imported before concurrency checking: `stdout` is a C global, which Swift 6
// refuses to touch otherwise, and this file touches it once, before anything runs.
@preconcurrency import Glibc

enum StandardOutput {
    /// Standard output is a pipe or a file under srun, in a Slurm job's log and in `| tee`, where
    /// C stdio would hold the program's lines in blocks of kilobytes: a run would look stalled, and
    /// a rank killed at a time limit would lose its last lines. Called first in `main`, so that
    /// each line is written as it is printed.
    static func writeLineByLine() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
