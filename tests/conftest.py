"""Shared fixtures; and a guard that the suite runs against the INSTALLED cbce (docs/design.md, "Layout").

Run the suite with plain `pytest` from the repo root, never `python -m pytest`: the latter puts the
repo root on sys.path, and `import cbce` would then find the un-built `cbce/` source folder.
"""
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
SOURCE_PACKAGE = REPO_ROOT / "cbce"

# Helper modules (_reference.py, _mpmath_table.py) are imported by bare name; make that work under
# every --import-mode. tests/ holds no package named cbce, so this cannot shadow the installed one.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

try:
    import cbce
except ImportError as exc:  # pragma: no cover - environment problem, not a test failure
    raise ImportError(
        f"could not import the installed cbce ({exc}). Install it first, e.g. "
        "`pip install '.[test]'`, then run plain `pytest` (not `python -m pytest`) from the repo root."
    ) from exc

_cbce_file = Path(cbce.__file__).resolve()
if _cbce_file.is_relative_to(SOURCE_PACKAGE.resolve()):
    pytest.exit(
        f"the tests imported cbce from the repo's source folder {_cbce_file.parent}, not from the "
        "installed package. Install with `pip install .` and run plain `pytest` from the repo root "
        "(`python -m pytest`, PYTHONPATH=. and editable installs all put the source folder first).",
        returncode=pytest.ExitCode.USAGE_ERROR,
    )


# Reproducible property tests that write nothing outside tests/ (no .hypothesis/ example database).
settings.register_profile("cbce", database=None, derandomize=True, deadline=None)
settings.load_profile("cbce")


def pytest_report_header(config):
    return f"cbce imported from {_cbce_file.parent}"


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test's node id: reproducible, different per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
