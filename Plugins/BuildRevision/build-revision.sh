#!/bin/sh
# Plugins/BuildRevision/build-revision.sh PACKAGE OUTPUT
# Writes OUTPUT, a Swift file declaring `buildRevision`, `git describe --tags --always --dirty` of
# PACKAGE and the commit's date ("cab0519b4299 (committed 2026-12-04)"), and `buildSources`, a
# fingerprint of what is compiled: the first 12 hex digits of a SHA-256 over the paths and
# contents of PACKAGE's Package.swift and the source files under Sources/ (those whose names end
# as SwiftPM's sources and headers do: an editor's backup, a patch's .orig or .rej, a note beside
# the code is no part of the program; hidden files SwiftPM leaves out too). Outside a git
# checkout of PACKAGE itself (a source tarball, git missing, the folder inside
# another repository) the revision is unknown rather than someone else's; the fingerprint is
# there anyway, and it tells apart two builds that git calls the same (two different edits of one
# commit, both -dirty). OUTPUT is rewritten only when its text changes, so that an unchanged build
# recompiles nothing. Run by the BuildRevision plugin on every build whose git records or sources
# changed.
set -u
package=$1 out=$2
export GIT_OPTIONAL_LOCKS=0
revision="unknown revision (built outside a git checkout)"
top=$(git -C "$package" rev-parse --show-toplevel 2>/dev/null) || top=
if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$package" && pwd -P)" ]; then
    if described=$(git -C "$package" describe --tags --always --dirty --abbrev=12 2>/dev/null) \
        && date=$(git -C "$package" log -1 --format=%cs HEAD 2>/dev/null); then
        revision="$described (committed $date)"
    fi
fi
# Into a Swift string literal: a tag may hold a quote (git refuses backslashes).
revision=$(printf '%s' "$revision" | tr -d '\042\134')
# Paths relative to the package, so that two copies of one source in different folders agree.
# The suffixes are BuildRevision.swift's sourceSuffixes, which the plugin watches.
sums=$(cd "$package" && find Package.swift Sources -name '.*' -prune -o -type f \( -name Package.swift \
    -o -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.modulemap' -o -name '*.cc' -o -name '*.cpp' \
    -o -name '*.cxx' -o -name '*.hpp' -o -name '*.m' -o -name '*.mm' -o -name '*.s' -o -name '*.S' \) -print0 2>/dev/null \
    | LC_ALL=C sort -z | xargs -0 -r sha256sum 2>/dev/null)
sources=$(printf '%s' "$sums" | sha256sum | cut -c1-12)
# No files read (not a package), or no sha256sum: nothing to fingerprint.
[ -n "$sums" ] || sources=unknown
case $sources in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
    *) sources=unknown ;;
esac
text="// Written by Plugins/BuildRevision at build time; not in git.
/// The source this program was built from: \`git describe --tags --always --dirty\` and the
/// commit's date, or why it is unknown.
let buildRevision = \"$revision\"
/// SHA-256 of the paths and contents of Package.swift and the sources under Sources/, its first
/// 12 hex digits.
let buildSources = \"$sources\"
"
if [ "$(cat "$out" 2>/dev/null)" != "$(printf '%s' "$text")" ]; then
    printf '%s' "$text" > "$out.new" && mv "$out.new" "$out"
fi
