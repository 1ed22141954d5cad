"""Typing: the stubs match the runtime, and a typed user passes mypy --strict.

mypy runs in a subprocess from outside the repository, so that it reads the INSTALLED cbce
(py.typed, __init__.pyi), not the source folder. Settings: tests/typing/mypy.ini.
"""
import importlib.util
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import cbce

TYPING = Path(__file__).resolve().parent / "typing"
CONFIG = TYPING / "mypy.ini"
USAGE = [TYPING / "usage.py", TYPING / "usage_torch.py"]
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _mypy(args, tmp_path):
    pytest.importorskip("mypy")
    cmd = [sys.executable, "-m", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, f"{' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"


def test_installed_package_is_typed():
    """py.typed and __init__.pyi are installed beside the package."""
    here = Path(cbce.__file__).parent
    assert (here / "py.typed").is_file() and (here / "__init__.pyi").is_file()


def test_usage_files_pass_mypy_strict(tmp_path):
    """tests/typing/usage*.py type-check under --strict (assert_type pins the overloads)."""
    _mypy(["mypy", "--strict", "--config-file", str(CONFIG), "--cache-dir",
           str(tmp_path / "cache"), *map(str, USAGE)], tmp_path)


def test_stubs_match_runtime(tmp_path):
    """python -m mypy.stubtest cbce: every stub signature and default matches the runtime."""
    args = ["mypy.stubtest", "cbce", "--mypy-config-file", str(CONFIG), "--allowlist",
            str(TYPING / "stubtest-allowlist.txt")]
    if not HAS_TORCH:  # cbce.torch cannot be imported: check the rest
        extra = tmp_path / "no-torch-allowlist.txt"
        extra.write_text("cbce\\.torch(\\..*)?\n")
        args += ["--allowlist", str(extra), "--ignore-unused-allowlist"]
    _mypy(args, tmp_path)


@pytest.mark.skipif(sys.version_info < (3, 10), reason="X | Y unions at run time need 3.10")
@pytest.mark.parametrize("path", [pytest.param(USAGE[0], id="usage"), pytest.param(
    USAGE[1], id="usage_torch",
    marks=pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed"))])
def test_usage_files_run(path):
    """The typed usage files are real code: they run."""
    runpy.run_path(str(path), run_name="__usage__")
