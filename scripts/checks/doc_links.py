"""Every link between the project's documents leads somewhere.

python3 scripts/checks/doc_links.py FILE...: for each Markdown FILE, every link that is not a URL
(`[text](path)`, `[text](path#anchor)`, `[text](#anchor)`, images included) must name a file or
folder of the repository, and its anchor a heading of that file as GitHub slugs it (lower case,
punctuation dropped, spaces as hyphens, a repeated heading numbered -1, -2, ...). Links inside
code blocks and code spans are left out. Exits 1 naming each broken link, or when no link was
checked. Run by scripts/test, so that renaming a heading or moving a file cannot strand a link.
"""
import os, re, sys

def without_fences(text):
    return re.sub(r"^ *```.*?^ *```", "", text, flags=re.S | re.M)

def without_code(text):
    return re.sub(r"`[^`\n]*`", "", without_fences(text))

def slugs(path):
    found, seen = set(), {}
    text = without_fences(open(path).read())
    for heading in re.findall(r"^#{1,6} +(.*?) *#*$", text, re.M):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found

checked = broken = 0
for path in sys.argv[1:]:
    base = os.path.dirname(path)
    for target in re.findall(r"\]\(([^)\s]+)(?: \"[^\"]*\")?\)", without_code(open(path).read())):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(base, file)) if file else path
        checked += 1
        if not os.path.exists(resolved):
            broken += 1
            print(f"{path}: ({target}): no file {resolved}")
        elif anchor and (os.path.isdir(resolved) or not resolved.endswith(".md") or anchor not in slugs(resolved)):
            broken += 1
            print(f"{path}: ({target}): no heading #{anchor} in {resolved}")
print(f"{checked} links checked, {broken} broken")
sys.exit(1 if broken or checked == 0 else 0)
