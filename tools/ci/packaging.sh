#!/usr/bin/env bash
# Packaging: python -m build (sdist, then a wheel from it), twine check, the sdist's contents,
# and the sdist alone installed in a fresh venv passing its own suite (tests/test_packaging.py).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
python tools/ci/install_extra.py release
CBCE_TEST_PACKAGING=1 pytest -q -p no:cacheprovider tests/test_packaging.py
