import ArgumentParser
import EPLB
import Foundation

/// `dualpipe eplb`: expert placement from load statistics, with DeepSeek's policy or ours.
struct EPLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eplb",
        abstract: "Place replicated MoE experts on ranks from per-expert loads (EPLB).",
        discussion: """
            Input JSON: {"weight": [[load, ...], ...], "replicas": R, "groups": G, "nodes": N, "ranks": K},
            one row of loads per MoE layer. Output: phy2log, log2phy, logcnt and balance metrics.
            """)

    enum Policy: String, ExpressibleByArgument, CaseIterable {
        case reference, balanced
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, text
    }

    @Option(name: .long, help: "Loads and cluster shape as JSON; '-' reads standard input (required).")
    var input: String

    @Option(
        help:
            "reference: DeepSeek's eplb.py, output for output, on exactly the inputs it accepts; balanced: no same-rank duplicates, better balance, also shapes eplb.py refuses."
    )
    var policy: Policy = .balanced

    @Option(
        help:
            "A previous placement (JSON with phy2log, e.g. an earlier output): balanced keeps experts in place where balance allows; both report experts moved (default: none)."
    )
    var previous: String?

    @Option(help: "json: machine-readable maps and metrics; text: a per-rank table for each layer.")
    var format: Format = .json

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        try Files.checkReadable(input, flag: "--input", allowsStandardInput: true)
        if let previous { try Files.checkReadable(previous, flag: "--previous") }
    }

    func run() throws {
        let request: PlacementRequest
        let prior: Placement?
        do {
            request = try PlacementRequest.decode(try Files.read(input, flag: "--input", allowsStandardInput: true))
        } catch let error as EPLBError {
            throw ValidationError("--input '\(input)': \(error.message)")
        }
        do {
            prior = try previous.map { try request.decodePrevious(try Files.read($0, flag: "--previous")) }
        } catch let error as EPLBError {
            throw ValidationError("--previous '\(previous ?? "")': \(error.message)")
        }
        let placement: Placement
        do {
            switch policy {
            case .reference: placement = try ReferencePolicy.place(request.loads, request.shape)
            case .balanced: placement = try BalancedPolicy.place(request.loads, request.shape, previous: prior)
            }
        } catch let error as EPLBError {
            throw ValidationError("--input '\(input)' with --policy \(policy.rawValue): \(error.message)")
        }
        let metrics = PlacementMetrics(
            loads: request.loads, shape: request.shape, placement: placement, previous: prior)
        switch format {
        case .json:
            print(try PlacementReport(policy: policy.rawValue, placement: placement, metrics: metrics).json())
        case .text:
            print(
                placementTable(
                    loads: request.loads, shape: request.shape, placement: placement, metrics: metrics,
                    policy: policy.rawValue))
            var summary = "overall: mean max/mean \(decimal(metrics.meanBalance, 3)), worst \(decimal(metrics.worstBalance, 3)), "
                + "same-rank duplicates \(metrics.sameRankDuplicates)"
            if let moved = metrics.moved { summary += ", experts moved \(moved)" }
            print(summary)
        }
    }
}
