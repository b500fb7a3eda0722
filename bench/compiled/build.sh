#!/bin/bash
# The mypyc feasibility experiment of bench/README.md ("Sixth round"), repeatable: this commit's tree exported to
# a scratch directory, the annotations mypyc needs applied there (mypyc.patch: type-check fixes, `Final` module
# constants, one compiler-bug workaround), and the five hot modules compiled in place (.so beside the .py, which
# Python then imports first). The repository itself is never touched and nothing here is part of the product.
#
#   bench/compiled/build.sh [DIR]        # default /tmp/tongting-mypyc; about 40 s of one core
#   PYTHONPATH=DIR .venv/bin/python -m bench.compiled.digest ARCHIVE [--events N] [--struct-sessions]
#
# mypy (with mypyc) goes into DIR/.mypyc-venv, built from the project venv's own interpreter (the compiled
# modules must match its version), so the project's venv gains nothing. mypyc.patch was made against 1c9118c:
# if it no longer applies, the five modules changed; redo the edits by hand until `mypy` passes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
out=${1:-/tmp/tongting-mypyc}
py=${PYTHON:-$repo/.venv/bin/python}
modules="shared/sessions/planner.py shared/audit/replay.py shared/tariffs/engine.py shared/clock.py shared/tariffs/quote.py"
base=$("$py" -c 'import sys; print(sys._base_executable)')
rm -rf "$out" && mkdir -p "$out"
git -C "$repo" archive HEAD | tar -x -C "$out"
(cd "$out" && patch -p1 -s < "$here/mypyc.patch")
"$base" -m venv "$out/.mypyc-venv"
"$out/.mypyc-venv/bin/pip" install -q "mypy==2.4.1" setuptools
cd "$out"
"$out/.mypyc-venv/bin/mypyc" --python-executable "$py" --follow-imports=silent $modules > mypyc.log 2>&1 || { tail -20 mypyc.log; exit 1; }
rm -rf build
echo "compiled into $out:"; find "$out" -maxdepth 4 -name '*.so' -not -path '*/.mypyc-venv/*' | sed "s#^$out/#  #"
