"""Every flag of every command is documented.

python3 scripts/checks/doc_flags.py DUALPIPE FILE...: walks `DUALPIPE --help` and each
subcommand's (from their SUBCOMMANDS lists), takes every flag an entry of OPTIONS or of a titled
section (`train`'s MODEL, OPTIMIZER, ...) names (`--steps`,
`-n, --ranks`, both sides of `--overlap/--no-overlap`) and requires it inside a code span of one
of the Markdown FILEs (`--steps 200`, `--shaped COMMAND --unshaped COMMAND`). Exits 1 naming each
flag the documents leave out, or when fewer than 150 flags were found (a help layout this
script no longer reads). Run by scripts/test, so
that a new flag cannot ship undocumented.
"""
import re, subprocess, sys

program, files = sys.argv[1], sys.argv[2:]
spans = " ".join(re.findall(r"`([^`\n]+)`", "\n".join(open(f).read() for f in files)))

def help_text(command):
    return subprocess.run([program, *command, "--help"], capture_output=True, text=True, check=True).stdout

def walk(command):
    text = help_text(command)
    # Every section after the usage line: OPTIONS and the titled ones ahead of it.
    options = text.split("USAGE:", 1)[-1].split("SUBCOMMANDS:", 1)[0]
    flags = set()
    for entry in re.findall(r"^  (-[^ ]*(?:, --?[^ ]+)?)", options, re.M):
        flags.update(f for f in re.findall(r"--[a-z][a-z0-9-]*", entry) if f != "--help")
    yield command, flags
    if "SUBCOMMANDS:" in text:
        for sub in re.findall(r"^  ([a-z][a-z0-9-]*) ", text.split("SUBCOMMANDS:", 1)[1], re.M):
            if sub != "help":
                yield from walk(command + [sub])

found = missing = 0
for command, flags in walk([]):
    for flag in sorted(flags):
        found += 1
        if not re.search(re.escape(flag) + r"(?![a-z0-9-])", spans):
            missing += 1
            print(f"dualpipe {' '.join(command)}: {flag} is in no code span of {', '.join(files)}")
print(f"{found} flags checked, {missing} undocumented")
sys.exit(1 if missing or found < 150 else 0)
