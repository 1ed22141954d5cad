#!/usr/bin/env bash
# The optional peers, torch and pandas: cbce.torch (tests/test_torch*.py), the interop tests and
# the typing / doctest checks that read them. torch==2.13.0 is the local CPU build on the project
# machines; a plain `torch` would pull a multi-GB CUDA build.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/main_venv.sh"
if pip install -q torch==2.13.0 pandas expecttest; then
  pytest -q -p no:cacheprovider tests/test_torch*.py tests/test_interop.py tests/test_typing.py \
    tests/test_docstrings.py
else
  echo "torch/pandas not installable here: cbce.torch and pandas tests stay skipped"
fi
