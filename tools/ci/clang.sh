#!/usr/bin/env bash
# clang, built and tested as gcc is: a fresh venv, the README's install command with CC=clang
# (OpenMP from LLVM's libomp), the core suite on the default variant and the C helpers' ulp bounds
# on every variant (tests/test_math.py); the whole suite per variant runs with gcc. apt-get
# installs clang and libomp-dev where they are missing (root, Debian).
source "$(dirname "$0")/common.sh"
if ! command -v clang >/dev/null || ! echo '#include <omp.h>' | clang -fopenmp -E -x c - >/dev/null 2>&1; then
  log "installing clang and libomp-dev"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libomp-dev >/dev/null
fi
fresh_venv clang
clean_build
CC=clang pip install ".[test]"
check_installed
cfg=$(cd "$CI_TMP" && python -c "import cbce; c = cbce.show_config(False); print(c['compiler'], c['openmp'])")
log "show_config: compiler, openmp = $cfg"
[ "$cfg" = "clang True" ] || { echo "expected a clang build with OpenMP, got: $cfg" >&2; exit 1; }
# The core suite and the C helpers' ulp bounds (tests/test_math.py, every variant): clang's code
# generation differs from gcc's.
log "core suite + tests/test_math.py, clang build"
with_math=()
for arg in "${CORE_DESELECT[@]}"; do [ "$arg" = --ignore=tests/test_math.py ] || with_math+=("$arg"); done
pytest -q -p no:cacheprovider "${with_math[@]}"
