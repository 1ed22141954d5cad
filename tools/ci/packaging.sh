#!/usr/bin/env bash
# Packaging: python -m build (sdist, then a wheel from it), twine check, the sdist's contents,
# and the sdist alone installed in a fresh venv passing its core suite (tests/test_packaging.py).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
python tools/ci/install_extra.py release
# The sdist's own suite: the core one (the full suite ran in readme.sh on this Python).
CBCE_SDIST_PYTEST_ARGS="${CORE_DESELECT[*]}" CBCE_TEST_PACKAGING=1 pytest -q -p no:cacheprovider tests/test_packaging.py
