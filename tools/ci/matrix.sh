#!/usr/bin/env bash
# The core suite and the Quickstart's demo on every other supported Python, each in a fresh venv
# with the README's install command. Interpreters: $CBCE_CI_PYTHONS (default: pyenv's 3.10, 3.12,
# 3.13; 3.11 runs the full suite in readme.sh). A missing one fails the stage: requires-python
# promises it.
source "$(dirname "$0")/common.sh"
pythons=${CBCE_CI_PYTHONS:-"3.10 3.12 3.13"}
failed=()
for v in $pythons; do
  py=$(ls -d /root/.pyenv/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -1 || true)
  py=${py:-$(command -v "python$v" || true)}
  [ -n "$py" ] || { echo "no Python $v found" >&2; exit 1; }
  fresh_venv "py$v" "$py"
  clean_build
  pip install ".[test]"
  check_installed
  # The Quickstart's demo from the repository root: -I keeps the un-built cbce/ off sys.path.
  python -I -m cbce >/dev/null
  log "core suite on Python $v"
  pytest -q -p no:cacheprovider "${CORE_DESELECT[@]}" || failed+=("$v")
  deactivate
done
# Every Python runs; the stage fails if any did.
[ ${#failed[@]} -eq 0 ] || { echo "core suite failed on Python ${failed[*]}" >&2; exit 1; }
