"""cbce from other C extensions: the example consumers build against the INSTALLED cbce and agree
with the Python API bit for bit; the C API's names, signatures and version are pinned."""
import importlib
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import cbce

from _capi import skip_without_c_compiler

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
DOCS_PAGE = EXAMPLES.parent / "docs" / "c-cython.md"
HEADER = pathlib.Path(cbce.get_include()) / "cbce.h"
CAPI_PXD = pathlib.Path(cbce.__file__).parent / "capi.pxd"


def _build(name, tmp_path_factory, macros=()):
    """Copy examples/<name> to a temporary folder and build it in place with this Python."""
    src = EXAMPLES / name
    if not src.is_dir():
        pytest.skip(f"{src} not found (tests run from a source checkout)")
    # Without a compiler (a binary wheel's install) the header checks below still run.
    skip_without_c_compiler()
    pytest.importorskip("setuptools", reason="building the consumers needs setuptools (test extra)")
    if name == "cython_consumer":
        pytest.importorskip("Cython", reason="the Cython consumer needs Cython (test extra)")
    dest = tmp_path_factory.mktemp(name) / name
    shutil.copytree(src, dest)
    env = dict(os.environ)
    if macros:
        env["CFLAGS"] = env.get("CFLAGS", "") + " " + " ".join(f"-D{m}" for m in macros)
    # cwd is the copy: `import cbce` in its setup.py finds the installed package, not the repo.
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=dest,
                          env=env, capture_output=True, text=True)
    return dest, proc


def _import(folder, module):
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def cython_consumer(tmp_path_factory):
    folder, proc = _build("cython_consumer", tmp_path_factory)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _import(folder, "cbce_cython_consumer")


@pytest.fixture(scope="module")
def c_consumer(tmp_path_factory):
    folder, proc = _build("c_consumer", tmp_path_factory)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _import(folder, "cbce_c_consumer")


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < 0.3).astype(np.float64), rng.normal(0.0, 4.0, n)


@pytest.mark.parametrize("n", [1, 10, 5000, 100_003], ids=lambda n: f"n={n}")
def test_cython_consumer_matches_python_api_bitwise(cython_consumer, n):
    """The Cython consumer's nogil call returns the Python API's loss and gradient exactly."""
    y, x = _data(n)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True)
    got_loss, got_grad = cython_consumer.loss_and_grad(y, x)
    assert got_loss == loss
    assert np.array_equal(got_grad, grad)


def test_cython_consumer_inline_functions_match_per_element_losses(cython_consumer):
    """cbce's per-element inline function in the consumer's own loop gives the same losses."""
    y, x = _data(1000)
    expected = cbce.bce(y, x, from_logits=True, reduction="none")
    assert cython_consumer.sum_logit_loss(y, x) == pytest.approx(float(np.sum(expected)),
                                                                  rel=1e-14)


@pytest.mark.parametrize("n_threads", [0, 1, 2])
@pytest.mark.parametrize("n", [10, 100_003], ids=lambda n: f"n={n}")
def test_c_consumer_matches_python_api_bitwise(c_consumer, n, n_threads):
    """The plain-C consumer's GIL-free call returns the Python API's results exactly."""
    y, x = _data(n, seed=1)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True)
    got_grad = np.empty_like(x)
    assert c_consumer.loss_and_grad(y, x, got_grad, n_threads) == loss
    assert np.array_equal(got_grad, grad)


def test_consumers_handle_empty_arrays(cython_consumer, c_consumer):
    """n = 0: both examples return the mean of nothing, NaN, as the Python API does."""
    e = np.empty(0)
    loss, grad = cython_consumer.loss_and_grad(e, e)
    assert np.isnan(loss) and grad.shape == (0,)
    assert np.isnan(c_consumer.loss_and_grad(e, e, np.empty(0)))
    assert np.isnan(cbce.bce(e, e, from_logits=True))


def test_c_consumer_reports_bad_labels_by_code_and_index(c_consumer):
    """A label outside [0, 1] comes back as CBCE_ERR_Y_TRUE (-2) with its index."""
    y, x = _data(100)
    y[37] = 2.0
    with pytest.raises(ValueError, match=r"error -2 \(first bad index 37\)"):
        c_consumer.loss_and_grad(y, x, np.empty_like(x))


def test_c_consumer_built_against_another_abi_fails_to_import(tmp_path_factory):
    """An extension built for another C API version fails at import with a clear message."""
    folder, proc = _build("c_consumer", tmp_path_factory, macros=["CBCE_ABI_VERSION=999"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A fresh interpreter: this process may already hold the correctly built module.
    run = subprocess.run([sys.executable, "-c", "import cbce_c_consumer"], cwd=folder,
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "ImportError" in run.stderr and "rebuild the extension" in run.stderr


# --- the docs' own snippets ---------------------------------------------------------------

def _doc_snippet(lang):
    """The one ```<lang> block of docs/c-cython.md (not a literalinclude)."""
    if not DOCS_PAGE.is_file():
        pytest.skip(f"{DOCS_PAGE} not found (tests run from a source checkout)")
    blocks = re.findall(rf"^```{lang}\n(.*?)^```", DOCS_PAGE.read_text(), re.S | re.M)
    assert len(blocks) == 1, f"expected one ```{lang} block in {DOCS_PAGE}"
    return blocks[0]


_SNIPPET_SETUP = """
import cbce
from setuptools import Extension, setup
ext = Extension("{mod}", ["{src}"], include_dirs=[cbce.get_include()])
if "{src}".endswith(".pyx"):
    from Cython.Build import cythonize
    ext = cythonize([ext], compiler_directives={{"language_level": 3}})[0]
setup(name="{mod}", ext_modules=[ext])
"""


@pytest.fixture(scope="module", params=[("cython", "cbce_snippet_cy", ".pyx", np.float32),
                                        ("c", "cbce_snippet_c", ".c", np.float64)],
                ids=["cython", "c"])
def doc_snippet(request, tmp_path_factory):
    lang, mod, ext, dtype = request.param
    skip_without_c_compiler()
    folder = tmp_path_factory.mktemp(mod)
    (folder / (mod + ext)).write_text(_doc_snippet(lang))
    (folder / "setup.py").write_text(_SNIPPET_SETUP.format(mod=mod, src=mod + ext))
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=folder,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _import(folder, mod), dtype


@pytest.mark.parametrize("n", [0, 1, 1000], ids=lambda n: f"n={n}")
def test_docs_snippet_builds_and_matches_python_api(doc_snippet, n):
    """The page's own snippet, built with only cbce.get_include(), gives the summed loss's
    gradient of the Python API bit for bit, empty arrays included."""
    module, dtype = doc_snippet
    y, x = (a.astype(dtype) for a in _data(n, seed=2))
    out = np.empty_like(x)
    if hasattr(module, "grad_f32"):
        module.grad_f32(y, x, out)
    else:
        module.grad(y, x, out)
    assert np.array_equal(out, cbce.bce_grad(y, x, from_logits=True, reduction="sum"))


def test_docs_snippet_reports_a_bad_label(doc_snippet):
    """A label outside [0, 1] comes back as error -2 with its index."""
    module, dtype = doc_snippet
    y, x = (a.astype(dtype) for a in _data(20, seed=2))
    y[11] = 3.0
    fn = getattr(module, "grad_f32", None) or module.grad
    with pytest.raises(ValueError, match="cbce error -2 at index 11"):
        fn(y, x, np.empty_like(x))


# --- stability: the exported API is pinned ------------------------------------------------

PINNED_WRAPPERS = {
    "cbce_bce_{t}": "const {T} *y_true, const {T} *y_pred, ptrdiff_t n, const {T} *sample_weight, "
                    "ptrdiff_t sw_stride, const {T} *pos_weight, ptrdiff_t pw_stride, "
                    "const cbce_options *options, double *loss, {T} *loss_out, "
                    "ptrdiff_t *bad_index",
    "cbce_bce_grad_{t}": "const {T} *y_true, const {T} *y_pred, ptrdiff_t n, "
                         "const {T} *sample_weight, ptrdiff_t sw_stride, const {T} *pos_weight, "
                         "ptrdiff_t pw_stride, const cbce_options *options, {T} *grad_out, "
                         "ptrdiff_t *bad_index",
    "cbce_bce_loss_and_grad_{t}": "const {T} *y_true, const {T} *y_pred, ptrdiff_t n, "
                                  "const {T} *sample_weight, ptrdiff_t sw_stride, "
                                  "const {T} *pos_weight, ptrdiff_t pw_stride, "
                                  "const cbce_options *options, double *loss, {T} *loss_out, "
                                  "{T} *grad_out, ptrdiff_t *bad_index",
    "cbce_bce_grad_hess_{t}": "const {T} *y_true, const {T} *y_pred, ptrdiff_t n, "
                              "const {T} *sample_weight, ptrdiff_t sw_stride, "
                              "const {T} *pos_weight, ptrdiff_t pw_stride, "
                              "const cbce_options *options, {T} *grad_out, {T} *hess_out, "
                              "ptrdiff_t *bad_index",
}


def _header_functions():
    text = HEADER.read_text()
    found = {}
    for m in re.finditer(r"static inline int (cbce_\w+)\(([^)]*)\)", text):
        found[m.group(1)] = " ".join(m.group(2).split())
    return text, found


def test_c_header_signatures_are_pinned():
    """cbce.h declares exactly the pinned functions, with the pinned parameter lists."""
    _, found = _header_functions()
    expected = {}
    for name, params in PINNED_WRAPPERS.items():
        for t, T in (("f64", "double"), ("f32", "float")):
            expected[name.format(t=t)] = params.format(T=T)
    assert found == expected


def test_c_api_table_layout_and_version_are_pinned():
    """The capsule table's fields and the ABI version match what consumers were built with."""
    text, _ = _header_functions()
    table = re.search(r"typedef struct cbce_api_table \{(.*?)\} cbce_api_table;", text, re.S)
    fields = re.findall(r"(\w+);", re.sub(r"/\*.*?\*/", "", table.group(1), flags=re.S))
    assert fields == ["abi_version", "table_size", "version", "kernel_variant", "run_f64",
                      "run_f32"]
    assert "#define CBCE_ABI_VERSION 1" in text
    assert cbce._kernels.C_ABI_VERSION == 1
    assert type(cbce._C_API).__name__ == "PyCapsule"
    assert "cbce._C_API" in repr(cbce._C_API)


def test_cython_api_names_are_pinned():
    """cbce/capi.pxd offers the array-level functions and the per-element inline functions."""
    text = CAPI_PXD.read_text()
    names = set(re.findall(r"\b(cbce_bce\w*_f(?:32|64)|import_cbce|logit_\w+|prob_\w+)\b", text))
    expected = {f.format(t=t) for f in PINNED_WRAPPERS for t in ("f32", "f64")}
    expected |= {"import_cbce", "logit_loss", "logit_grad", "logit_loss_grad", "logit_grad_hess",
                 "logit_loss_f", "logit_grad_f", "logit_loss_grad_f", "prob_loss", "prob_grad",
                 "prob_loss_grad"}
    assert names == expected
    assert re.search(r"cbce_options cbce_default_options\(\) noexcept nogil", text)
    assert re.search(r"void cbce_options_init\(cbce_options\* options\) noexcept nogil", text)


def test_c_options_initializers_are_declared():
    """cbce.h has cbce_default_options() and cbce_options_init() (inline: no ABI change)."""
    text = HEADER.read_text()
    assert "static inline cbce_options cbce_default_options(void)" in text
    assert "static inline void cbce_options_init(cbce_options *options)" in text


def test_get_include_holds_the_headers():
    """cbce.get_include() is the installed folder with cbce.h and cbce_math.h."""
    folder = pathlib.Path(cbce.get_include())
    assert (folder / "cbce.h").is_file() and (folder / "cbce_math.h").is_file()
    assert pathlib.Path(cbce.__file__).parent in folder.parents
