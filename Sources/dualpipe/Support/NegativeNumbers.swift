/// ArgumentParser reads `-3` as a short option, so `-n -3` is reported as a missing value and the
/// rule the value breaks is never seen. Before parsing, an option followed by a negative number
/// (`-3`, `-0.5`, `-1e3`, `-inf`, `-nan`) is joined with it (`-n=-3`, `--steps=-1`), which
/// ArgumentParser reads as that option's value; the command's validation then names the rule
/// ("-n -3: the number of ranks must be at least 1"). A negative number further along an option's
/// values (`--sizes 256 -512`) is given to that option the same way (`--sizes=-512`, which a list
/// option appends). Everything after `--` is left alone.
enum NegativeNumbers {
    static func joined(_ arguments: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var option: String?  // the option whose values the arguments are now
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result.append(contentsOf: arguments[index...])
                break
            }
            if isOptionName(argument), index + 1 < arguments.count, isNegativeNumber(arguments[index + 1]) {
                result.append(argument + "=" + arguments[index + 1])
                option = argument
                index += 2
            } else if let option, isNegativeNumber(argument) {
                result.append(option + "=" + argument)
                index += 1
            } else {
                // An option name starts its values; one with its value attached (`--x=1`) has no more.
                if argument.hasPrefix("-") { option = isOptionName(argument) ? argument : nil }
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    /// `-n` or `--ranks`, without a value attached, and not itself a number.
    static func isOptionName(_ argument: String) -> Bool {
        argument.hasPrefix("-") && argument.count > 1 && !argument.contains("=") && !isNegativeNumber(argument)
    }

    static func isNegativeNumber(_ argument: String) -> Bool {
        guard argument.hasPrefix("-"), argument.count > 1 else { return false }
        let magnitude = argument.dropFirst()
        if ["inf", "infinity", "nan"].contains(magnitude.lowercased()) { return true }
        guard let first = magnitude.first, first.isNumber || first == "." else { return false }
        return Double(magnitude) != nil
    }
}
