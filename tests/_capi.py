"""cbce's C API called from Python through the capsule table with ctypes (for the contract
tests: the same function pointers a C consumer calls), and the skip of the tests that build a
consumer extension where no C compiler is."""
import ctypes
import os
import shutil
import sysconfig

import numpy as np
import pytest

import cbce

OK, ERR_ARGUMENT, ERR_Y_TRUE, ERR_Y_PRED = 0, -1, -2, -3
OP = {"loss": 0, "grad": 1, "loss_grad": 2, "grad_hess": 3}
RED = {"none": 0, "sum": 1, "mean": 2, "weighted_mean": 3}


class Options(ctypes.Structure):
    _fields_ = [("from_logits", ctypes.c_int), ("reduction", ctypes.c_int),
                ("label_smoothing", ctypes.c_double), ("eps", ctypes.c_double),
                ("n_threads", ctypes.c_int)]


_P = ctypes.c_void_p
_RUN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, _P, _P, ctypes.c_ssize_t, _P,
                        ctypes.c_ssize_t, _P, ctypes.c_ssize_t, ctypes.POINTER(Options),
                        ctypes.POINTER(ctypes.c_double), _P, _P, _P,
                        ctypes.POINTER(ctypes.c_ssize_t))


class _Table(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint), ("table_size", ctypes.c_uint),
                ("version", ctypes.c_char_p), ("kernel_variant", ctypes.c_char_p),
                ("run_f64", _RUN), ("run_f32", _RUN)]


def table():
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return _Table.from_address(get(cbce._C_API, b"cbce._C_API"))


def _ptr(a):
    return None if a is None else a.ctypes.data


def run(op, y, x, *, sw=None, sw_stride=1, pw=None, pw_stride=1, options=None, loss=True,
        loss_out=None, grad_out=None, hess_out=None, bad_index=True):
    """Call run_f64/run_f32 (by x's dtype); returns (rc, *loss or None, *bad_index or None).
    options: None (NULL) or a dict of fields over the defaults."""
    t = table()
    fn = t.run_f64 if x.dtype == np.float64 else t.run_f32
    opt = None
    if options is not None:
        opt = Options(0, RED["mean"], 0.0, 0.0, 0)
        for k, v in options.items():
            setattr(opt, k, v)
        opt = ctypes.byref(opt)
    lv = ctypes.c_double(12345.0) if loss else None
    bad = ctypes.c_ssize_t(12345) if bad_index else None
    n = x.size
    x = None if n == 0 else x          # n = 0: every array NULL
    rc = fn(OP[op], _ptr(y), _ptr(x), n, _ptr(sw), sw_stride, _ptr(pw), pw_stride, opt,
            ctypes.byref(lv) if loss else None, _ptr(loss_out), _ptr(grad_out), _ptr(hess_out),
            ctypes.byref(bad) if bad_index else None)
    return rc, (lv.value if loss else None), (bad.value if bad_index else None)


def skip_without_c_compiler():
    """Skip the calling test where the compiler setuptools will call ($CC, else the one Python
    was built with) is not on PATH.

    A binary wheel installs where there may be none (tools/ci/wheel.sh tests exactly that):
    building a consumer extension is then impossible, not wrong."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if shutil.which(cc.split()[0]) is None:
        pytest.skip(f"no C compiler on PATH ({cc!r}): a consumer extension cannot be built")
