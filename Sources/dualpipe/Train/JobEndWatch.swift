import Foundation
import Pipeline

/// The job's end as it moves while the job runs: `scontrol update JobId=... TimeLimit=...` moves a
/// running job's end, and SLURM_JOB_END_TIME or DUALPIPE_JOB_END keep the one of its start.
/// slurm/train.sbatch re-reads it from squeue while the ranks run and writes it, Unix seconds, to
/// the file DUALPIPE_JOB_END_FILE names (replaced whole, by a rename); rank 0 reads the file
/// between steps, at most once every `interval` seconds.
struct JobEndWatch {
    static let interval = 1.0

    let path: String
    /// The end the run goes by, Unix seconds.
    private(set) var end: Double
    private var lastLook = -Double.infinity

    /// Nil without a file to watch or a starting end (`RunProgress.jobEnd`).
    init?(_ environment: [String: String], start: Double?) {
        guard let path = environment["DUALPIPE_JOB_END_FILE"], !path.isEmpty, let start else { return nil }
        (self.path, end) = (path, start)
    }

    /// The new end when the file holds another one than the run goes by; nil otherwise (also
    /// while the file is missing or holds no time, as before the script's first look).
    mutating func moved(now: Double = monotonicSeconds()) -> Double? {
        guard now - lastLook >= Self.interval else { return nil }
        lastLook = now
        guard let data = FileManager.default.contents(atPath: path),
              let value = Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              value > 0, value != end else { return nil }
        end = value
        return value
    }
}
