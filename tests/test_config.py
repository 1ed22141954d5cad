"""cbce.show_config(): version, OpenMP, default threads, compiler flags; the loops' CPU targets."""
import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

import cbce
from cbce import _dispatch
from cbce._dispatch import kernels

USABLE = [t for t, ok in _dispatch.available().items() if ok]


def test_show_config_returns_the_build_configuration(capsys):
    """show_config() returns a dict with version, openmp, default_n_threads and compile_args."""
    config = cbce.show_config()
    capsys.readouterr()
    assert isinstance(config, dict)
    missing = {"version", "openmp", "default_n_threads", "compile_args"} - set(config)
    assert not missing, f"missing keys: {missing}"
    assert isinstance(config["openmp"], bool)
    assert isinstance(config["default_n_threads"], int) and config["default_n_threads"] >= 1


def test_version_matches_package_version(capsys):
    """show_config()["version"] is cbce.__version__."""
    assert cbce.show_config()["version"] == cbce.__version__


def test_built_without_fast_math(capsys):
    """The kernels are never compiled with -ffast-math (it breaks NaN handling)."""
    args = cbce.show_config()["compile_args"]
    flags = args.split() if isinstance(args, str) else list(args)
    assert not any("fast-math" in f or f == "-Ofast" for f in flags), flags


# ---- CPU targets of the element loops (src/loops/table.h, cbce/_dispatch.py) -----------------

def _forced_import(target):
    """(exit status, stdout, stderr) of `import cbce` in a child with CBCE_KERNEL=target."""
    code = "import cbce; print(cbce.show_config(print_=False)['kernel_variant'])"
    env = dict(os.environ, CBCE_KERNEL=target)
    # From the folder that holds the cbce this process imported: `python -c` puts the working
    # directory first on sys.path, so the child imports the same cbce (an installed one, or an
    # in-place build), on every supported Python (-P, the other way, is 3.11+).
    where = os.path.dirname(os.path.dirname(os.path.abspath(cbce.__file__)))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=where, timeout=120)
    return r.returncode, r.stdout.strip(), r.stderr


def test_show_config_reports_the_targets():
    """The target in use is one this CPU runs; those were built; baseline is always built."""
    config = cbce.show_config(print_=False)
    assert config["kernel_variant"] in config["kernel_variants"]
    assert set(config["kernel_variants"]) <= set(config["kernel_variants_built"])
    assert config["kernel_variants_built"][0] == "baseline"
    assert list(config["variant_flags"]) == config["kernel_variants_built"]


def test_default_target_is_the_preferred_one_this_cpu_runs():
    """Without CBCE_KERNEL the first usable target in preference order is picked."""
    if os.environ.get("CBCE_KERNEL"):
        pytest.skip("CBCE_KERNEL forces the target in this run")
    assert cbce.show_config(print_=False)["kernel_variant"] == USABLE[0]


def test_c_api_names_the_target_in_use():
    """The capsule's kernel_variant (cbce.h: after abi_version, table_size, version) is the
    target in use."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    table = get(cbce._C_API, b"cbce._C_API")
    offset = 2 * ctypes.sizeof(ctypes.c_uint) + ctypes.sizeof(ctypes.c_char_p)
    name = ctypes.c_char_p.from_address(table + offset).value.decode()
    assert name == cbce.show_config(print_=False)["kernel_variant"]


@pytest.mark.parametrize("target", list(_dispatch.available()))
def test_cbce_kernel_forces_a_target_or_raises(target):
    """CBCE_KERNEL=<target> runs that target where the CPU can; elsewhere import raises an
    ImportError naming the variable (never an illegal instruction)."""
    rc, out, err = _forced_import(target)
    if target in USABLE:
        assert (rc, out) == (0, target), err
    else:
        assert rc == 1 and "ImportError" in err and f"CBCE_KERNEL={target!r}" in err, (rc, err)


def test_cbce_kernel_rejects_an_unknown_target():
    """An unknown CBCE_KERNEL value is an ImportError listing the valid names."""
    rc, _, err = _forced_import("sse9")
    assert rc == 1 and "CBCE_KERNEL must be one of" in err and "'avx2'" in err, err


def test_math_eval_rejects_unknown_names():
    """math_eval names the helper or target it does not know."""
    x = np.zeros(3)
    with pytest.raises(ValueError, match="unknown helper 'exp'"):
        kernels.math_eval("exp", x, np.empty(3))
    with pytest.raises(ValueError, match="no 'neon9' loops"):
        kernels.math_eval("log", x, np.empty(3), "neon9")


@pytest.fixture
def on_target():
    """Switch the loop table for one test; restore the one picked at import."""
    yield kernels._select_target
    kernels._select_target(_dispatch.variant)


def _results(dtype):
    """Every loop family once (BCE logits and probabilities with weights and label smoothing,
    gradient+hessian, focal, range checks, softmax rows and columns), on 5000 elements: whole
    blocks, a part block and the padded tail."""
    rng = np.random.default_rng(13)
    n = 5000
    x = (rng.standard_normal(n) * 6).astype(dtype)
    p = rng.uniform(0, 1, n).astype(dtype)
    y = rng.uniform(0, 1, n).astype(dtype)
    w = rng.uniform(0.5, 2, n).astype(dtype)
    pw = rng.uniform(0.5, 3, n).astype(dtype)
    out = []
    out += cbce.bce_loss_and_grad(y, x, from_logits=True, label_smoothing=0.1)
    out += cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w, pos_weight=pw,
                                  reduction="none")
    out += cbce.bce_loss_and_grad(y, p, eps=1e-6, sample_weight=w, reduction="none")
    out += cbce.bce_grad_hess(y, x, pos_weight=pw)
    out += cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, alpha=0.25,
                                  reduction="none")
    out += cbce.bce_loss_and_grad(y, p, gamma=1.5, reduction="none")
    bad = y.copy()
    bad[4321] = 2
    with pytest.raises(ValueError, match="4321"):
        cbce.bce(bad, x, from_logits=True)
    for c in (3, 40):                     # the column path (few classes) and the row path
        z = (rng.standard_normal((n // 10, c)) * 4).astype(dtype)
        t = rng.integers(0, c, n // 10)
        out += cbce.cross_entropy_loss_and_grad(t, z, label_smoothing=0.05, reduction="none")
    return [np.asarray(r, dtype=np.float64) for r in out]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", USABLE)
def test_every_target_agrees_with_baseline(on_target, target, dtype):
    """Each target's loops give baseline's results up to the last bits (FMA contraction and
    vector widths differ; the helpers are within 1.5 ulp on every target, tests/test_math.py):
    |a - b| <= 16 ulp(1) * max(|b|, 1) elementwise (2.6 seen: avx2 against baseline)."""
    eps = np.finfo(dtype).eps
    on_target("baseline")
    ref = _results(dtype)
    on_target(target)
    got = _results(dtype)
    for i, (a, b) in enumerate(zip(got, ref)):
        tol = 16 * eps * np.maximum(np.abs(b), 1.0)
        assert np.all(np.abs(a - b) <= tol), (
            f"result {i}: max difference {np.max(np.abs(a - b) / tol):.2f} of the bound")
