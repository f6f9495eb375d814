#!/usr/bin/env python3
"""Runs several variants of a `dualpipe train` command alternately and compares their step times.

Each variant is NAME=COMMAND; the command is run with `--metrics FILE` added, and its
`schedule_seconds` (from the barrier to the end of the step's schedule, slowest rank), or with
`--measure step` its `step_seconds` (the whole step: the gradient sums and the update too), are read
back, skipping the first (warm-up) step. Rounds alternate the variants, so a machine whose speed
drifts (a shared VM, turbo, another job) moves every variant alike; the report gives each
variant's median over all rounds, its ratio to the first variant, its median pipeline efficiency
(a rank's compute over the step, mean over ranks) and the share of its sends' time in flight that
compute hid. `--before NAME=COMMAND` runs a shell command before each run of
that variant (for example shaping a link).

  python3 bench/alternate.py --rounds 3 \\
      --variant "test=scripts/launch 2 .build/release/dualpipe train --model mlp --steps 6" \\
      --variant "library=scripts/launch 2 .build/release/dualpipe train --model mlp --steps 6 --mpi-progress library"
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

from cpu_description import cpu_description


def named(text):
    name, sep, command = text.partition("=")
    if not sep or not name or not command.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=COMMAND")
    return name, command


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", type=named, action="append", required=True, help="NAME=COMMAND (two or more)")
    parser.add_argument("--before", type=named, action="append", default=[], help="NAME=COMMAND run before each run of variant NAME")
    parser.add_argument("--measure", choices=["schedule", "step"], default="schedule",
                        help="schedule: schedule_seconds (default); step: step_seconds, the whole step with the gradient sums and the update")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (default 3)")
    arguments = parser.parse_args()
    if len(arguments.variant) < 2:
        parser.error("give at least two --variant NAME=COMMAND")
    if arguments.rounds < 1:
        parser.error(f"--rounds {arguments.rounds} must be at least 1")
    names = [name for name, _ in arguments.variant]
    if len(set(names)) != len(names):
        parser.error(f"variant names repeat: {names}")
    before = dict(arguments.before)
    for name in before:
        if name not in names:
            parser.error(f"--before {name}: no variant of that name")

    field = f"{arguments.measure}_seconds"
    times = {name: [] for name in names}
    efficiency = {name: [] for name in names}
    sends = {name: [0.0, 0.0] for name in names}
    print(f"{os.cpu_count()} cores of {cpu_description()}; {arguments.rounds} rounds of {', '.join(names)}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(arguments.rounds):
            for name, command in arguments.variant:
                if name in before:
                    subprocess.run(before[name], shell=True, check=True, stdout=subprocess.DEVNULL)
                metrics = os.path.join(folder, f"{name}-{round_}.jsonl")
                result = subprocess.run(shlex.split(command) + ["--metrics", metrics], capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"{name} failed ({result.returncode}): {command}\n{result.stdout}{result.stderr}")
                with open(metrics) as f:
                    records = [json.loads(line) for line in f][1:]
                if not records:
                    sys.exit(f"{name}: no step after the warm-up; give --steps 2 or more")
                times[name] += [r[field] for r in records]
                efficiency[name] += [r["efficiency"] for r in records if "efficiency" in r]
                for r in records:
                    sends[name][0] += sum(r.get("send_seconds", []))
                    sends[name][1] += sum(r.get("send_blocked_seconds", []))
                print(f"round {round_} {name}: median {statistics.median(r[field] for r in records):.3f} s", flush=True)
    base = statistics.median(times[names[0]])
    width = max(16, max(len(name) for name in names) + 2)
    print(f"{'variant':<{width}}{'steps':>6}{'median s':>10}{'ratio':>8}{'efficiency':>12}{'sends hidden':>14}")
    for name in names:
        median = statistics.median(times[name])
        total, blocked = sends[name]
        hidden = f"{1 - blocked / total:.2f}" if total > 0 else "-"
        busy = f"{statistics.median(efficiency[name]):.2f}" if efficiency[name] else "-"
        print(f"{name:<{width}}{len(times[name]):>6}{median:>10.3f}{median / base:>8.2f}{busy:>12}{hidden:>14}")

if __name__ == "__main__":
    main()
