/// The longest silent wait of a run's start: every rank draws its stages' initial weights, one
/// Box-Muller draw a parameter (about 35 ns on a core of the development VM's AMD EPYC), before the header.
enum WeightDrawing {
    /// Models at least this large say so first (a second or more).
    static let announcedFrom = 20_000_000

    /// On the lead rank of a model of `parameters` at least `announcedFrom`: says what the wait is.
    static func announce(parameters: Int, lead: Bool) {
        guard lead && parameters >= announcedFrom else { return }
        print("drawing the initial weights of \(parameters) parameters (each rank its own stages)...")
    }
}
