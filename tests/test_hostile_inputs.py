"""Hostile inputs: each works (bitwise like a plain array) or fails with a clear error, never a
crash or a wrong answer (docs/design.md, "Reliability").

Huge element counts use zero-stride broadcast views, huge byte offsets a lazily allocated
(untouched, so never resident) 4 GiB buffer; the 2^31-element pass takes ~10-40 s and runs only
with CBCE_SLOW_TESTS=1 (tools/reliability.py sets it).
"""
import array
import os

import numpy as np
import pytest

import cbce

SLOW = pytest.mark.skipif(not os.environ.get("CBCE_SLOW_TESTS"),
                          reason="2^31-element passes take 10-40 s: set CBCE_SLOW_TESTS=1")
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


def _data(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, n).astype(dtype), rng.normal(0, 4, n).astype(dtype),
            rng.uniform(0, 1, n).astype(dtype), rng.uniform(0.5, 2, n).astype(dtype))


def _all_results(y, x, p, w, **kw):
    """Every entry point's outputs for logits x and probabilities p, as a list of arrays."""
    out = []
    for logits, xx in ((True, x), (False, p)):
        for red in ("none", "mean", "weighted_mean"):
            out += [np.asarray(v) for v in (cbce.bce(y, xx, from_logits=logits, sample_weight=w, pos_weight=w,
                                                     reduction=red, **kw),
                                            *cbce.bce_loss_and_grad(y, xx, from_logits=logits, sample_weight=w,
                                                                    reduction=red, **kw))]
    out += list(cbce.bce_grad_hess(y, x, sample_weight=w, pos_weight=w, **kw))
    return out


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.tobytes() == v.tobytes()


def _misaligned(a, offset=1):
    """A copy of `a` in a buffer whose data pointer is `offset` bytes off the dtype's alignment."""
    buf = bytearray(a.nbytes + 16)
    base = np.frombuffer(buf, np.uint8)
    shift = (offset - base.ctypes.data) % 16
    view = np.ndarray(a.shape, a.dtype, buffer=buf, offset=shift)
    view[...] = a
    assert not view.flags.aligned
    return view


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_inputs_give_the_aligned_results(dtype, n_threads):
    """Inputs whose data pointer is one byte off alignment give bitwise the aligned results."""
    y, x, p, w = _data(40_001, dtype)
    _same(_all_results(*(_misaligned(a) for a in (y, x, p, w)), n_threads=n_threads),
          _all_results(y, x, p, w, n_threads=n_threads))


@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_out_is_filled_like_an_aligned_one(dtype):
    """A misaligned `out` (and grad_out/hess_out) is filled and returned, bitwise as usual."""
    y, x, _, w = _data(5003, dtype)
    out, g, h = (_misaligned(np.empty_like(x), k) for k in (1, 3, 5))
    assert cbce.bce_grad(y, x, from_logits=True, sample_weight=w, out=out) is out
    assert out.tobytes() == cbce.bce_grad(y, x, from_logits=True, sample_weight=w).tobytes()
    g2, h2 = cbce.bce_grad_hess(y, x, grad_out=g, hess_out=h)
    assert g2 is g and h2 is h
    _same([g, h], cbce.bce_grad_hess(y, x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_inputs_without_options(dtype):
    """The common call (contiguous, one dtype, no weights, no out) on misaligned buffers gives
    the aligned results (the facade's fast path must not pass them to the kernels as they are)."""
    y, x, p, _ = _data(40_001, dtype)
    def arrays(result):
        return [np.asarray(v) for v in (result if isinstance(result, tuple) else (result,))]

    for fn in (cbce.bce, cbce.bce_grad, cbce.bce_loss_and_grad):
        for logits, xx in ((True, x), (False, p)):
            _same(arrays(fn(_misaligned(y), _misaligned(xx), from_logits=logits)),
                  arrays(fn(y, xx, from_logits=logits)))
    _same(cbce.bce_grad_hess(_misaligned(y), _misaligned(x)), cbce.bce_grad_hess(y, x))


def test_misaligned_in_place_gradient():
    """out=y_pred on a misaligned buffer: the gradient lands in y_pred, as for an aligned one."""
    y, x, _, _ = _data(3001, np.float64)
    xm = _misaligned(x)
    assert cbce.bce_grad(y, xm, from_logits=True, out=xm) is xm
    assert xm.tobytes() == cbce.bce_grad(y, x, from_logits=True).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_byte_swapped_inputs_give_the_native_results(dtype):
    """Big-endian (non-native) inputs are converted and give bitwise the native results."""
    y, x, p, w = _data(3001, dtype)
    swapped = [a.astype(a.dtype.newbyteorder()) for a in (y, x, p, w)]
    assert not swapped[0].dtype.isnative
    _same(_all_results(*swapped), _all_results(y, x, p, w))


def test_byte_swapped_out_is_rejected_by_name():
    """A non-native `out` raises ValueError naming out and its dtype."""
    y, x, _, _ = _data(10, np.float64)
    with pytest.raises(ValueError, match=r"out must have dtype float64.*>f8"):
        cbce.bce_grad(y, x, from_logits=True, out=np.empty(10, ">f8"))


def test_matrix_is_treated_as_a_2d_array():
    """np.matrix inputs behave as their 2-D ndarray; outputs are plain ndarrays."""
    y, x, _, _ = _data(6, np.float64)
    ym, xm = np.matrix(y.reshape(2, 3)), np.matrix(x.reshape(2, 3))
    loss = cbce.bce(ym, xm, from_logits=True, reduction="none")
    assert type(loss) is np.ndarray and loss.shape == (2, 3)
    assert loss.tobytes() == cbce.bce(y, x, from_logits=True, reduction="none").tobytes()
    assert cbce.bce(ym, xm, from_logits=True) == cbce.bce(y, x, from_logits=True)


@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight", "pos_weight"])
def test_masked_arrays_are_rejected(arg):
    """A masked array raises TypeError naming the argument: cbce would silently ignore its mask."""
    y, x, _, w = _data(4, np.float64)
    args = {"y_true": y, "y_pred": x, "sample_weight": w, "pos_weight": w}
    args[arg] = np.ma.masked_array(args[arg], mask=[False, True, False, False])
    with pytest.raises(TypeError, match=arg):
        cbce.bce(args["y_true"], args["y_pred"], from_logits=True,
                 sample_weight=args["sample_weight"], pos_weight=args["pos_weight"])


def test_buffer_protocol_objects_are_read_like_arrays():
    """array.array and memoryview inputs (buffer protocol only) give the ndarray results."""
    y, x = [0.0, 1.0, 0.25], [0.2, 0.7, 0.5]
    want = cbce.bce(np.array(y), np.array(x), reduction="none")
    got = cbce.bce(array.array("d", y), memoryview(array.array("d", x)), reduction="none")
    assert got.tobytes() == want.tobytes()
    got32 = cbce.bce(memoryview(bytes([0, 1, 0])), array.array("f", x), reduction="none")
    assert got32.dtype == np.float32


def test_array_dunder_objects_are_read_like_arrays():
    """An object with only __array__ (or __array_interface__) is converted by NumPy's rules."""
    x = np.array([0.2, 0.7, 0.5])

    class HasArray:
        def __array__(self, dtype=None, copy=None):
            return x

    class HasInterface:
        __array_interface__ = x.__array_interface__

    want = cbce.bce([0, 1, 0], x)
    assert cbce.bce([0, 1, 0], HasArray()) == want
    assert cbce.bce([0, 1, 0], HasInterface()) == want


def test_raising_array_dunder_propagates_its_error():
    """An __array__ that raises: that exception reaches the caller unchanged."""
    class Broken:
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("broken __array__")

    with pytest.raises(RuntimeError, match="broken __array__"):
        cbce.bce([0, 1], Broken())


@pytest.mark.parametrize("value", [b"ab", "ab", None, object(), 1j, np.datetime64(1, "s")],
                         ids=["bytes", "str", "None", "object", "complex", "datetime64"])
def test_non_numeric_inputs_raise_type_error(value):
    """Non-numeric y_pred raises TypeError naming y_pred."""
    with pytest.raises(TypeError, match="y_pred"):
        cbce.bce(0, value)


@pytest.mark.parametrize("func", ["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess"])
@pytest.mark.parametrize("shape", [(0, 2, 0), (2, 0, 3), (0,), (3, 0)], ids=str)
def test_empty_inputs_with_broadcast_weights(func, shape):
    """Empty inputs with weights broadcast along their non-empty axes give empty outputs."""
    x = np.zeros(shape)
    w = np.ones(tuple(s if s else 1 for s in shape))[..., :1]
    result = getattr(cbce, func)(x, x, sample_weight=w, pos_weight=w, reduction="none")
    for r in (result if isinstance(result, tuple) else (result,)):
        assert np.shape(r) == shape


def test_byte_offsets_beyond_2_gib():
    """Strided views whose byte offsets exceed 2^31 (and 2^32) read the right elements."""
    big = np.zeros(2**29 + 16)                          # 4 GiB, calloc'd: pages stay unmapped
    big[:: 2**25] = np.linspace(-3, 3, big[:: 2**25].size)
    x = big[:: 2**25]                                   # stride 256 MiB, last offset 4 GiB
    y = np.full(x.shape, 0.25)
    want = cbce.bce(y, x.copy(), from_logits=True, reduction="none")
    assert cbce.bce(y, x, from_logits=True, reduction="none").tobytes() == want.tobytes()
    x2 = big[: 2**29].reshape(4, -1)[:, :: 2**26]       # row stride 1 GiB
    assert cbce.bce(np.zeros(x2.shape), x2, from_logits=True, reduction="none").shape == x2.shape
    y2 = np.broadcast_to(0.5, x2.shape)
    assert cbce.bce_grad(y2, x2, from_logits=True).tobytes() == \
        cbce.bce_grad(y2, x2.copy(), from_logits=True).tobytes()


def test_n_threads_beyond_int32_is_accepted_or_a_value_error():
    """n_threads >= 2^31 (a positive int) works or raises ValueError, not OverflowError."""
    try:
        cbce.bce([0.0, 1.0], [0.2, 0.7], n_threads=2**31)
    except ValueError as exc:
        assert "n_threads" in str(exc)


@SLOW
def test_more_than_2_31_elements_reduce_and_report_the_right_index():
    """2^31 + 2^16 elements (zero-stride views): the loss is the per-element value and a bad label
    in the last row is reported at its 2-D index (flat index > 2^31)."""
    cols = 2**16
    rows = 2**31 // cols + 1
    x = np.broadcast_to(np.linspace(-3, 3, cols), (rows, cols))
    col = np.full((rows, 1), 0.25)
    col[-1] = 2.0
    with pytest.raises(ValueError, match=rf"index \({rows - 1}, 0\)"):
        cbce.bce(np.broadcast_to(col, (rows, cols)), x, from_logits=True)
    x1 = np.broadcast_to(1.5, (2**31 + 5,))
    y1 = np.broadcast_to(0.25, x1.shape)
    one = cbce.bce(y1[:1], x1[:1], from_logits=True)
    assert abs(cbce.bce(y1, x1, from_logits=True) - one) <= 1e-14 * one
