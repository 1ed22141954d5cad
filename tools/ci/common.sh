# Sourced by the tools/ci/*.sh stages: the repository root, a scratch folder, fresh venvs that
# share pip's cache, and the core test selection.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
CI_TMP=${CBCE_CI_TMP:-$(mktemp -d /tmp/cbce-ci-XXXXXX)}
export CBCE_CI_TMP=$CI_TMP
# pip's cache stays on (~/.cache/pip): each later venv installs the test extra's wheels, and the
# wheel that an isolated build makes of cbce's build requirements, from it.
export PIP_DISABLE_PIP_VERSION_CHECK=1

# The core suite (matrix, wheel, clang, the variant loops): the full suite minus parts that
# another stage already runs where their result can differ, each measured here among the slowest:
#   test_dask, test_xgboost, test_lightgbm, test_gbdt  optional integrations (full suite, 3.11)
#   test_typing     mypy --strict and stubtest, ~110 s (full suite, 3.11)
#   test_leaks      ~4 min of repeated calls (full suite; reliability's coverage run)
#   test_math       ulp bounds of the C helpers over EVERY variant in one run, ~4 min: a matter of
#                   compiler, not Python (full suite with gcc; clang.sh adds it back)
# Numerics, bad input, threads, fork, the C API consumers and packaging stay.
CORE_DESELECT=(--ignore=tests/test_dask.py --ignore=tests/test_xgboost.py
               --ignore=tests/test_lightgbm.py --ignore=tests/test_gbdt.py
               --ignore=tests/test_typing.py --ignore=tests/test_leaks.py
               --ignore=tests/test_math.py)

log() { echo "[ci $(date -u +%H:%M:%S)] $*"; }

# fresh_venv NAME [PYTHON]: a new venv under $CI_TMP, activated, with an up-to-date pip.
fresh_venv() {
  local dir="$CI_TMP/$1" py=${2:-python3}
  rm -rf "$dir"
  "$py" -m venv "$dir"
  # shellcheck disable=SC1091
  source "$dir/bin/activate"
  python -m pip install -q --upgrade pip
  log "venv $1: $(python -VV | head -1)"
}

# clean_build: drop the ignored build outputs of the tree (build/, generated C, in-place .so).
# `pip install .` builds in the tree, and setuptools skips an extension whose .so in build/ is
# newer than its sources: without this, the clang stage would ship gcc's objects.
clean_build() {
  if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$REPO" clean -fdXq -- build src cbce
  else
    rm -rf "$REPO/build"
  fi
}

# check_installed: the cbce that Python imports from outside the tree is the venv's, built.
check_installed() {
  local where
  where=$(cd "$CI_TMP" && python -c "import cbce, cbce._kernels; print(cbce.__file__)")
  case "$where" in
    "$VIRTUAL_ENV"/*) log "cbce imported from $where" ;;
    *) echo "cbce imported from $where, not from the venv $VIRTUAL_ENV" >&2; return 1 ;;
  esac
}

# variants_loop ARGS...: the suite (pytest ARGS) again on every kernel variant this CPU runs
# other than the default one; the list comes from show_config().
variants_loop() {
  local default variants variant
  default=$(cd "$CI_TMP" && python -c "import cbce; print(cbce.show_config(False)['kernel_variant'])")
  variants=$(cd "$CI_TMP" && python -c "import cbce; print(' '.join(cbce.show_config(False)['kernel_variants']))")
  for variant in $variants; do
    [ "$variant" = "$default" ] && continue
    log "test suite on the $variant kernels"
    CBCE_KERNEL=$variant pytest -q -p no:cacheprovider "$@"
  done
}
