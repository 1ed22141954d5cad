#!/usr/bin/env bash
# The fast reliability checks: the suite under coverage.py with the property / leak / concurrency
# / fork / math figures collected, and the summary table. The sanitizer, valgrind, debug-build and
# Cython-coverage parts run with the full command (python tools/reliability.py, ~20-30 min).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
python tools/reliability.py --quick
