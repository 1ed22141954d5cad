#!/bin/sh
# The documentation check CI runs (docs/design.md, "The documentation"), from any directory:
#   sh tools/check_docs.sh
# 1. a quick benchmark run, so that the performance page renders its report and plots
#    (skipped when CBCE_BENCH_JSON names a real run, which is then rendered instead);
# 2. the Sphinx build with warnings as errors;
# 3. the pages' >>> examples as doctests, and tests/test_docs_facts.py;
# 4. every page opened in headless Chromium (installed from Debian's packages when missing):
#    it renders, its images load, the API pages list every public name; screenshots are kept in
#    docs/_build/screenshots.
# Needs cbce installed with the docs extra: pip install ".[docs]".
# PYTHON selects the interpreter (default python3).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=docs/_build

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

rm -rf "$OUT/html" "$OUT/screenshots" docs/api/generated
mkdir -p "$OUT"
if [ -z "${CBCE_BENCH_JSON:-}" ]; then
    echo "== quick benchmark run (for the performance page's figures)"
    # -P everywhere: the repository's un-built cbce/ folder must not shadow the installed one.
    "$PY" -P -m pytest benchmarks -q -p no:cacheprovider --bench-quick --benchmark-max-time=0.02 \
        --benchmark-min-rounds=3 --benchmark-warmup=off --benchmark-json="$OUT/bench-quick.json" >/dev/null
    CBCE_BENCH_JSON="$OUT/bench-quick.json"
    export CBCE_BENCH_JSON
fi

echo "== sphinx-build -W"
"$PY" -P -m sphinx -W --keep-going -q -b html docs "$OUT/html"

echo "== doctests of the pages, constants stated against the code"
"$PY" -P -m pytest -q -p no:cacheprovider --doctest-glob="*.md" docs tests/test_docs_facts.py

echo "== every page in headless Chromium"
"$PY" -P tools/docs_browser_check.py "$OUT/html" --shots "$OUT/screenshots"
