#!/usr/bin/env bash
# The benchmark suite in its quick mode (each case once, tiny N) so that it cannot rot.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
python tools/ci/install_extra.py bench
pytest benchmarks --bench-quick --benchmark-disable -q -p no:cacheprovider
