"""The schedule and simulate examples of the docs are what the program prints.

python3 scripts/checks/doc_examples.py DUALPIPE FILE...: runs every example of FILE (a fenced
block opening with `$ dualpipe schedule ...` or `$ dualpipe simulate ...` followed by its output,
a `sh` block holding the command alone followed by a block of its output, or a paragraph opening
with the command in backticks whose line of prose ends with a colon before the output's block) and compares the
output with the block, whole. Blocks with more than one command, cut short with `...`, or reading
or writing files are left out. Exits 1 when an example differs or fewer than 5 were checked.
Run by scripts/test, so that an example cannot go stale when the program's output changes.
"""
import re, shlex, subprocess, sys
program, files = sys.argv[1], sys.argv[2:]
checked = bad = 0
skip_flags = {"--output", "--check", "--compare-trace", "--costs-from-trace", "--trace", "--svg"}
for path in files:
    text = open(path).read()
    examples = [(m.group(1), m.group(2)) for m in re.finditer(r"^ *```\n *\$ (dualpipe (?:schedule|simulate)\b[^\n]*)\n(.*?)^ *```$", text, re.S | re.M)]
    examples += [(m.group(1), m.group(2)) for m in re.finditer(r"^```sh\n(dualpipe (?:schedule|simulate)\b[^\n]*)\n```\n```\n(.*?)^```$", text, re.S | re.M)]
    # A command in backticks opening a paragraph whose one line of prose ends with ":" before the block.
    examples += [(m.group(1), m.group(2)) for m in re.finditer(r"^`(dualpipe (?:schedule|simulate)\b[^`\n]*)`\n[^\n]*:\n\n```\n(.*?)^```$", text, re.S | re.M)]
    for command, shown in examples:
        indent = re.match(r" *", shown).group(0)
        shown = "".join(line[len(indent):] if line.startswith(indent) else line for line in shown.splitlines(True))
        if "\n$ " in "\n" + shown or "..." in shown:
            continue
        args = shlex.split(command)[1:]
        if skip_flags.intersection(args):
            continue
        run = subprocess.run([program] + args, capture_output=True, text=True)
        checked += 1
        if run.stdout != shown:
            bad += 1
            print(f"{path}: `{command}` prints otherwise:")
            print(run.stdout + run.stderr)
print(f"{checked} examples checked, {bad} differ")
sys.exit(1 if bad or checked < 5 else 0)
