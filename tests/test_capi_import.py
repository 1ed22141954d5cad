"""import_cbce() (cbce.h, and through it cbce/capi.pxd) raises ImportError naming the cause for
every way the C API can be unusable, as NumPy's import_array() does: a consumer's
`try: ... except ImportError` fallback must work. A fake `cbce` in sys.modules stands for a
shadowing or old package."""
import ctypes
import subprocess
import sys
import textwrap
import types

import pytest

import cbce

from _capi import skip_without_c_compiler

_SOURCE = textwrap.dedent("""
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>
    #include "cbce.h"

    static PyObject *load(PyObject *self, PyObject *unused)
    {
        if (import_cbce() < 0) return NULL;
        return PyLong_FromLong((long)cbce_api->abi_version);
    }

    static PyObject *defaults(PyObject *self, PyObject *unused)
    {
        cbce_options a = cbce_default_options(), b, c = CBCE_OPTIONS_INIT;
        cbce_options_init(&b);
        return Py_BuildValue("(iiddi)(iiddi)(iiddi)",
                             a.from_logits, a.reduction, a.label_smoothing, a.eps, a.n_threads,
                             b.from_logits, b.reduction, b.label_smoothing, b.eps, b.n_threads,
                             c.from_logits, c.reduction, c.label_smoothing, c.eps, c.n_threads);
    }

    static PyMethodDef methods[] = {
        {"load", load, METH_NOARGS, NULL},
        {"defaults", defaults, METH_NOARGS, NULL},
        {NULL, NULL, 0, NULL},
    };
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cbce_loader", NULL, -1, methods};
    PyMODINIT_FUNC PyInit_cbce_loader(void) { return PyModule_Create(&module); }
""")

_SETUP = textwrap.dedent("""
    import cbce
    from setuptools import Extension, setup
    setup(name="cbce-loader", ext_modules=[Extension("cbce_loader", ["cbce_loader.c"],
                                                       include_dirs=[cbce.get_include()])])
""")


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    """A C extension whose load() calls import_cbce() (its init does not)."""
    skip_without_c_compiler()
    folder = tmp_path_factory.mktemp("loader")
    (folder / "cbce_loader.c").write_text(_SOURCE)
    (folder / "setup.py").write_text(_SETUP)
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=folder,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, str(folder))
    try:
        import cbce_loader
    finally:
        sys.path.remove(str(folder))
    return cbce_loader


@pytest.fixture
def fake_cbce(monkeypatch):
    """Install a module named cbce with the given attributes in place of the real one."""
    def install(**attrs):
        fake = types.ModuleType("cbce")
        fake.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, "cbce", fake)
    return install


_new_capsule = ctypes.pythonapi.PyCapsule_New
_new_capsule.restype = ctypes.py_object
_new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


class _Head(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint), ("table_size", ctypes.c_uint),
                ("rest", ctypes.c_void_p * 4)]


# Kept alive for the whole session: a capsule does not own its pointer or name.
_KEEP = []


def _capsule(abi_version, table_size, name=b"cbce._C_API"):
    head = _Head(abi_version, table_size)
    _KEEP.append((head, name))
    return _new_capsule(ctypes.addressof(head), name, None)


def test_the_real_cbce_loads(loader):
    """With the installed cbce, import_cbce() succeeds and sees this header's ABI version."""
    assert loader.load() == cbce._kernels.C_ABI_VERSION


def test_options_initializers_agree(loader):
    """cbce_default_options(), cbce_options_init() and CBCE_OPTIONS_INIT are the defaults."""
    a, b, c = loader.defaults()
    assert a == b == c == (0, 2, 0.0, 0.0, 0)      # probabilities, "mean", no smoothing, no eps


def test_missing_c_api(loader, fake_cbce):
    """A cbce without _C_API (an old one, a shadowing module): ImportError, not AttributeError."""
    fake_cbce()
    with pytest.raises(ImportError, match="cbce has no _C_API"):
        loader.load()


def test_c_api_not_a_capsule(loader, fake_cbce):
    """_C_API of another type: ImportError naming the type, not ValueError."""
    fake_cbce(_C_API=42)
    with pytest.raises(ImportError, match="not a capsule but a int object"):
        loader.load()


def test_capsule_of_another_package(loader, fake_cbce):
    """A capsule with another name: ImportError naming it."""
    fake_cbce(_C_API=_capsule(1, ctypes.sizeof(_Head), b"other._C_API"))
    with pytest.raises(ImportError, match='capsule named "other._C_API".*another package'):
        loader.load()


def test_abi_mismatch(loader, fake_cbce):
    """A table of another ABI version: ImportError asking for a rebuild."""
    fake_cbce(_C_API=_capsule(cbce._kernels.C_ABI_VERSION + 1, ctypes.sizeof(_Head)))
    with pytest.raises(ImportError, match="provides version 2: rebuild the extension"):
        loader.load()


def test_short_table(loader, fake_cbce):
    """A table shorter than this header's (an older cbce): ImportError asking for an upgrade."""
    fake_cbce(_C_API=_capsule(cbce._kernels.C_ABI_VERSION, 8))
    with pytest.raises(ImportError, match="table has 8 bytes, fewer than the 40 .*upgrade cbce"):
        loader.load()


def test_cbce_not_importable(loader, monkeypatch):
    """No cbce at all: the import's own ImportError (ModuleNotFoundError) comes through."""
    monkeypatch.setitem(sys.modules, "cbce", None)
    with pytest.raises(ImportError):
        loader.load()
