"""Arrays from elsewhere in the core API, without copies (docs/semantics.md, "copies").

Objects with ``__dlpack__`` (PyTorch, JAX CPU arrays), ``__array__`` (pandas Series) or the
buffer protocol (memoryview, array.array) give the results of the equivalent ndarray. "No copy"
is checked two ways: the array cbce reads shares memory with the object, and tracemalloc (which
sees every NumPy allocation) finds no allocation of the input's size during the call.
"""
import array
import tracemalloc

import numpy as np
import pytest

import cbce
from cbce._api import _numeric

N = 200_000


class DLPackOnly:
    """A producer with the DLPack protocol and nothing else (no __array__, no buffer)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def _data(dtype=np.float64):
    rng = np.random.default_rng(5)
    x = rng.normal(0, 2, N).astype(dtype)
    y = (rng.uniform(size=N) < 0.5).astype(dtype)
    return x, y


def _peak_numpy_bytes(func):
    func()  # warm-up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = func()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def _wrappers():
    """(id, wrap) pairs: wrap(ndarray) -> an object of another library over the same memory."""
    out = [("memoryview", memoryview), ("dlpack-only", DLPackOnly)]
    try:
        import torch
        out.append(("torch", torch.from_numpy))
    except ImportError:
        pass
    try:
        import pandas as pd
        out.append(("pandas", lambda a: pd.Series(a, copy=False)))
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        out.append(("jax", lambda a: jax.device_put(a, jax.devices("cpu")[0])))
    except ImportError:
        pass
    return [pytest.param(wrap, id=name) for name, wrap in out]


WRAPPERS = _wrappers()


@pytest.mark.parametrize("wrap", WRAPPERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_foreign_inputs_give_the_ndarray_results(wrap, dtype):
    """Loss and gradient of foreign y_true, y_pred and sample_weight equal the ndarray ones."""
    x, y = _data(dtype)
    w = np.linspace(0.5, 2, N).astype(dtype)
    want = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w)
    got = cbce.bce_loss_and_grad(wrap(y), wrap(x), from_logits=True, sample_weight=wrap(w))
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
    assert type(got[1]) is np.ndarray


@pytest.mark.parametrize("wrap", WRAPPERS)
def test_foreign_inputs_are_read_in_place(wrap):
    """The array cbce reads shares the foreign object's memory (jax: its own CPU buffer)."""
    x, _ = _data()
    obj = wrap(x)
    arr = _numeric(obj, "y_pred")
    assert arr.dtype == np.float64 and arr.shape == x.shape
    if "jax" not in type(obj).__module__:  # device_put owns a buffer of its own
        assert np.shares_memory(arr, x)


@pytest.mark.parametrize("wrap", WRAPPERS)
def test_foreign_inputs_allocate_no_copy(wrap):
    """A reduced loss of foreign float64 inputs allocates less than 1/8 of an input's size."""
    x, y = _data()
    fx, fy = wrap(x), wrap(y)
    peak, loss = _peak_numpy_bytes(lambda: cbce.bce(fy, fx, from_logits=True))
    assert loss == cbce.bce(y, x, from_logits=True)
    assert peak < x.nbytes / 8, f"peak {peak} bytes for inputs of {x.nbytes} bytes"


def test_torch_strided_view_is_not_copied():
    """A transposed torch tensor (non-contiguous) is read through its strides, not copied."""
    torch = pytest.importorskip("torch")
    x, y = _data()
    xt = torch.from_numpy(x.reshape(400, 500)).t()
    yt = torch.from_numpy(y.reshape(400, 500)).t()
    peak, loss = _peak_numpy_bytes(lambda: cbce.bce(yt, xt, from_logits=True))
    assert loss == cbce.bce(y.reshape(400, 500).T, x.reshape(400, 500).T, from_logits=True)
    assert peak < x.nbytes / 8
    assert np.shares_memory(_numeric(xt, "y_pred"), x)


def test_array_array_buffer():
    """array.array (the buffer protocol, no NumPy) works as y_pred."""
    p = [0.2, 0.7, 0.9]
    assert cbce.bce([0, 1, 1], array.array("d", p)) == cbce.bce([0, 1, 1], p)


def test_torch_tensor_requiring_grad_is_refused_with_torch_advice():
    """A tensor that requires grad: torch's own error, which says to detach() it."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        cbce.bce(torch.zeros(3), x, from_logits=True)


def test_non_cpu_tensor_is_refused():
    """A tensor that is not in CPU memory (meta device here, CUDA alike) raises."""
    torch = pytest.importorskip("torch")
    with pytest.raises((TypeError, RuntimeError, NotImplementedError)):
        cbce.bce(torch.zeros(3), torch.zeros(3, device="meta"), from_logits=True)


class _Sub(np.ndarray):
    """An ndarray subclass, as libraries define them (astropy Quantity, xarray-backed, ...)."""


def test_ndarray_subclass_is_read_as_its_base_array():
    """An ndarray subclass is read without a copy, as a plain ndarray."""
    x, y = _data()
    sub = x.view(_Sub)
    arr = _numeric(sub, "y_pred")
    assert type(arr) is np.ndarray and np.shares_memory(arr, x)
    assert cbce.bce(y.view(_Sub), sub, from_logits=True) == cbce.bce(y, x, from_logits=True)
