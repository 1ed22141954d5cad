"""Packaging: one version number, LICENSE, CHANGELOG, a complete sdist.

The quick checks run always. The build checks (``python -m build`` of an sdist and a wheel from
it, ``twine check``, the sdist's contents, and the sdist installed in a fresh virtual
environment passing its own test suite) take minutes: they run with CBCE_TEST_PACKAGING=1, as
.ci/run does, and need ``build`` and ``twine`` (the ``release`` extra) and the package index.
"""
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

import cbce

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
SLOW = os.environ.get("CBCE_TEST_PACKAGING", "") not in ("", "0")


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads(PYPROJECT.read_text())


def test_version_is_single_sourced():
    """pyproject.toml reads the version from cbce.__version__; the installed metadata agrees."""
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    attr = _pyproject()["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "cbce.__version__"
    assert importlib.metadata.version("cbce") == cbce.__version__


def test_version_appears_once_in_the_sources():
    """No other file of the package states the version number."""
    pattern = re.compile(r"""(__version__|version)\s*=\s*["']\d+\.\d+""")
    hits = [p.relative_to(REPO_ROOT).as_posix()
            for p in [*REPO_ROOT.joinpath("cbce").glob("*.py*"), PYPROJECT,
                      REPO_ROOT / "setup.py"]
            if pattern.search(p.read_text())]
    assert hits == ["cbce/__init__.py"]


def test_changelog_has_the_current_version():
    """CHANGELOG.md has a section for cbce.__version__."""
    text = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert f"## [{cbce.__version__}]" in text


def test_license_is_bsd3_and_installed():
    """LICENSE is BSD-3-Clause by "the cbce developers", and ships in the installed metadata."""
    text = (REPO_ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause License" in text and "the cbce developers" in text
    dist = importlib.metadata.distribution("cbce")
    assert any(Path(str(f)).name == "LICENSE" for f in dist.files or [])
    assert "BSD" in (dist.metadata.get("License") or dist.metadata.get("License-Expression"))


def test_cibuildwheel_configuration():
    """cibuildwheel builds Linux wheels only (what CI tests), for each tested Python, and tests
    every wheel with the suite."""
    cibw = _pyproject()["tool"]["cibuildwheel"]
    assert "linux" in cibw and not {"macos", "windows"} & set(cibw)
    assert cibw["build"].split() == [f"cp3{minor}-*" for minor in _tested_minors()]
    assert "pytest" in cibw["test-command"] and cibw["test-extras"] == ["test"]


def _tested_minors():
    """The Python 3 minor versions of requires-python's floor up to the newest classifier."""
    project = _pyproject()["project"]
    floor = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert floor, project["requires-python"]
    classified = sorted(int(c.rsplit(".", 1)[1]) for c in project["classifiers"]
                        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    return list(range(int(floor.group(1)), classified[-1] + 1)) if classified else []


def test_python_classifiers_match_requires_python():
    """A classifier for each Python version requires-python admits, up to the newest tested."""
    project = _pyproject()["project"]
    classified = [int(c.rsplit(".", 1)[1]) for c in project["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert sorted(classified) == _tested_minors() and classified


def test_license_is_an_spdx_expression_and_every_package_is_declared():
    """SPDX license string (no deprecated table or license classifier); cbce.include, the headers'
    package, is declared rather than shipped by accident of setuptools' data-file rules."""
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    packages = _pyproject()["tool"]["setuptools"]["packages"]
    on_disk = sorted(p.parent.relative_to(REPO_ROOT).as_posix().replace("/", ".")
                     for p in REPO_ROOT.joinpath("cbce").rglob("*")
                     if p.is_file() and p.suffix in (".py", ".h", ".pxd", ".pyi")
                     and "__pycache__" not in p.parts)
    assert sorted(packages) == sorted(set(on_disk))


# --------------------------------------------------------------------------------------------------
# Build checks (CBCE_TEST_PACKAGING=1)

slow = pytest.mark.skipif(not SLOW, reason="set CBCE_TEST_PACKAGING=1 (builds; minutes)")


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory):
    """`python -m build`: the sdist, then a wheel built from that sdist alone."""
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


@slow
def test_build_makes_an_sdist_and_a_wheel(dist_dir):
    """One sdist and one wheel of cbce.__version__."""
    names = sorted(p.name for p in dist_dir.iterdir())
    assert len(names) == 2, names
    assert names[0].startswith(f"cbce-{cbce.__version__}-") and names[0].endswith(".whl")
    assert names[1] == f"cbce-{cbce.__version__}.tar.gz"


@slow
def test_twine_check_passes(dist_dir):
    """twine check: the metadata and the README render for PyPI."""
    pytest.importorskip("twine")
    res = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                          *map(str, dist_dir.iterdir())], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@slow
def test_sdist_contains_every_source(dist_dir):
    """Every .pyx, .pxi, .pxd and header, the tests with their helpers and data; no
    generated C and no build facts of the machine that made it."""
    (sdist,) = dist_dir.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    git = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True)
    tracked = set(git.stdout.split()) if git.returncode == 0 else set()
    wanted = {n for n in tracked
              if n.startswith(("src/", "cbce/", "tests/", "examples/"))
              or n in ("README.md", "LICENSE", "CHANGELOG.md", "setup.py", "pyproject.toml")}
    assert wanted, "not a git checkout: nothing to compare with"
    assert not wanted - names, f"missing from the sdist: {sorted(wanted - names)}"
    for pattern in ("src/_kernels.pyx", "src/_kernels_impl.pxi", "src/loops/bce_logits_f32.h",
                    "src/loops/table.c", "src/loops/table.h", "src/cpu_dispatch.h",
                    "cbce/_elementwise.pxd", "cbce/capi.pxd", "cbce/include/cbce_math.h",
                    "examples/c_consumer/cbce_c_consumer.c", "tests/conftest.py", "LICENSE"):
        assert pattern in names
    # Cython's output (src/*.c, cbce/*.c) is generated; src/loops/table.c is a source.
    generated = {n for n in names if n.endswith(".so") or (n.endswith(".c") and
                                                           n.count("/") == 1 and
                                                           n.startswith(("src/", "cbce/")))}
    assert not generated | ({"cbce/_build_info.py"} & names)


@slow
def test_sdist_alone_builds_and_passes_its_tests(dist_dir, tmp_path):
    """A fresh venv installs the sdist with its test extra and runs the sdist's own suite."""
    (sdist,) = dist_dir.glob("*.tar.gz")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"{sdist}[test]"], check=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data") if hasattr(tarfile, "data_filter") \
            else tar.extractall(tmp_path)
    src = tmp_path / f"cbce-{cbce.__version__}"
    env = {k: v for k, v in os.environ.items() if k != "CBCE_TEST_PACKAGING"}
    # CBCE_SDIST_PYTEST_ARGS narrows the suite (tools/ci/packaging.sh: the core suite; the full
    # one already ran on the same Python).
    extra = os.environ.get("CBCE_SDIST_PYTEST_ARGS", "").split()
    res = subprocess.run([str(env_dir / "bin" / "pytest"), "-q", "-p", "no:cacheprovider",
                          "-x", *extra], cwd=src, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
