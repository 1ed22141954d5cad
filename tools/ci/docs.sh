#!/usr/bin/env bash
# tools/check_docs.sh (Sphinx -W, the pages' doctests, headless Chromium) with readme.sh's venv
# and the docs extra: the script needs cbce installed, and PYTHON names that interpreter.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
python tools/ci/install_extra.py docs
PYTHON="$(command -v python)" sh tools/check_docs.sh
