#!/usr/bin/env bash
# The README's Quickstart, verbatim, in a fresh venv of the default python3 (3.11 here): install
# and run the demo, then the test extras and the FULL suite; then the core suite again on every
# other kernel variant this CPU runs. Later stages (torch, packaging, reliability, bench) reuse this
# venv: $CBCE_CI_TMP/main.
source "$(dirname "$0")/common.sh"
fresh_venv main
clean_build
log "Quickstart line 1"
pip install . && python -I -m cbce
log "Quickstart line 2 (full suite)"
pip install ".[test]" && pytest
check_installed
# The other variants: the core suite (tests/test_math.py already ran every variant).
variants_loop "${CORE_DESELECT[@]}"
