/// The assignment of n workers to n jobs with the largest total score (Hungarian method, O(n^3)).
/// - Parameter score: [n, n], score[worker * n + job].
/// - Returns: [n] the job of each worker.
func bestAssignment(score: [Int], n: Int) -> [Int] {
    guard n > 0 else { return [] }
    // Potentials u (workers, 1-based) and v (jobs), as in the classic shortest-augmenting-path form,
    // minimising the negated score.
    var u = [Int](repeating: 0, count: n + 1), v = [Int](repeating: 0, count: n + 1)
    var workerOfJob = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
    for worker in 1...n {
        workerOfJob[0] = worker
        var job0 = 0
        var minv = [Int](repeating: Int.max, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        repeat {
            used[job0] = true
            let w0 = workerOfJob[job0]
            var delta = Int.max, job1 = 0
            for job in 1...n where !used[job] {
                let reduced = -score[(w0 - 1) * n + (job - 1)] - u[w0] - v[job]
                if reduced < minv[job] {
                    minv[job] = reduced
                    way[job] = job0
                }
                if minv[job] < delta {
                    delta = minv[job]
                    job1 = job
                }
            }
            for job in 0...n {
                if used[job] {
                    u[workerOfJob[job]] += delta
                    v[job] -= delta
                } else {
                    minv[job] -= delta
                }
            }
            job0 = job1
        } while workerOfJob[job0] != 0
        repeat {
            let job1 = way[job0]
            workerOfJob[job0] = workerOfJob[job1]
            job0 = job1
        } while job0 != 0
    }
    var jobOf = [Int](repeating: 0, count: n)
    for job in 1...n { jobOf[workerOfJob[job] - 1] = job - 1 }
    return jobOf
}
