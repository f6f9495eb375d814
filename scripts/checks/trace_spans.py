"""The spans of a trace written by `dualpipe train --trace`, as the pipeline checks read them.

Imported by the Python in scripts/checks/pipeline (run from the repository root with
PYTHONPATH=scripts/checks), so that every check agrees on what a compute action is and on its
compute time.
"""
import json


def spans(path):
    """Every complete span ("ph": "X") of the trace at `path`."""
    return [e for e in json.load(open(path))["traceEvents"] if e.get("ph") == "X"]


def is_compute(span):
    """Whether a span is one of the schedule's compute actions (F, B, W, BW, FB): not a wait, not
    a phase of the update after the schedule."""
    return span.get("cat") not in ("wait", "update")


def compute_spans(path):
    """The spans of the schedule's compute actions."""
    return [e for e in spans(path) if is_compute(e)]


def compute_ms(span):
    """A compute span's length in ms, less the time a pair's side sat blocked inside it, never
    below 0, as dualpipe reads it (a side blocked for nearly all of a span can measure a hair longer)."""
    return max(0, span["dur"] / 1000 - (span.get("args", {}).get("blocked_ms") or 0))
