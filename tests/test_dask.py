"""cbce.dask against the NumPy path: exact reductions for any chunking, global gradient scaling,
weights as NumPy or dask arrays, one pass per chunk, the threaded scheduler and a real
dask.distributed cluster of 2 worker processes (docs/guide/dask.md)."""
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cbce

da = pytest.importorskip("dask.array", reason="dask[array] is not installed (pip install 'dask[array]')")
import dask  # noqa: E402
import cbce.dask as cd  # noqa: E402

SHAPE = (301, 47)
CHUNKS = (64, 20)  # ragged last chunks on both axes
F32_ULP = 2.0 ** -23
KINDS = [pytest.param(True, id="logits"), pytest.param(False, id="probabilities")]
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
REDUCED = ["sum", "mean", "weighted_mean"]
# name -> (shape, as a dask array with these chunks, or None for NumPy)
WEIGHTS = {
    "none": None,
    "scalar": ((), None),
    "per-row-numpy": ((SHAPE[0], 1), None),
    "per-column-dask": ((SHAPE[1],), (7,)),
    "full-dask-misaligned": (SHAPE, (50, 13)),
}


def _data(seed, from_logits, dtype=np.float64, shape=SHAPE):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, shape) if from_logits else rng.uniform(0.001, 0.999, shape)
    y = rng.uniform(0, 1, shape)
    y.ravel()[::3] = 0
    y.ravel()[1::3] = 1
    return y, x.astype(dtype)


def _weight(kind, rng, dtype=np.float64):
    """(NumPy weight for the reference, the same weight as given to cbce.dask)."""
    if WEIGHTS[kind] is None:
        return None, None
    shape, chunks = WEIGHTS[kind]
    w = rng.uniform(0.2, 3.0, shape).astype(dtype)
    return w, (w if chunks is None else da.from_array(w, chunks=chunks))


def _rel(got, want):
    return abs(float(got) - float(want)) / abs(float(want))


def _assert_close_ulp(got, want, ulps, dtype):
    """Element-wise |got − want| ≤ ulps · eps(dtype) · |want|."""
    assert got.dtype == want.dtype and got.shape == want.shape
    eps = np.finfo(dtype).eps
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = ulps * eps * np.abs(want.astype(np.float64))
    worst = int(np.argmax(err - bound))
    assert np.all(err <= bound), (worst, got.ravel()[worst], want.ravel()[worst])


# --------------------------------------------------------------------------------------------------
# Reduced losses

@pytest.mark.parametrize("weights", list(WEIGHTS))
@pytest.mark.parametrize("reduction", REDUCED)
@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_loss_matches_numpy_path(dtype, from_logits, reduction, weights, rng):
    """bce's sum/mean/weighted_mean equals cbce.bce on the whole array to 1e-14 relative."""
    y, x = _data(1, from_logits, dtype)
    w_np, w_in = _weight(weights, rng, dtype)
    want = cbce.bce(y, x, from_logits=from_logits, sample_weight=w_np, pos_weight=2.5,
                    reduction=reduction)
    got = cd.bce(da.from_array(y, chunks=CHUNKS), da.from_array(x, chunks=CHUNKS),
                 from_logits=from_logits, sample_weight=w_in, pos_weight=2.5, reduction=reduction)
    assert got.shape == () and got.dtype == np.float64
    assert _rel(got.compute(scheduler="threads"), want) <= 1e-14


# An element's results do not depend on its place in the array (the kernels compute every element
# in their vector body: tests/test_determinism.py), so a chunk's per-element losses are the whole
# array's, bit for bit.
LOSS_ULPS = 0


@pytest.mark.parametrize("from_logits", KINDS)
def test_none_is_the_numpy_path(from_logits, rng):
    """bce(reduction="none") is, chunk by chunk, cbce.bce's per-element loss, bitwise."""
    y, x = _data(2, from_logits)
    w_np, w_in = _weight("full-dask-misaligned", rng)
    want = cbce.bce(y, x, from_logits=from_logits, sample_weight=w_np, reduction="none")
    got = cd.bce(y, da.from_array(x, chunks=CHUNKS), from_logits=from_logits, sample_weight=w_in,
                 reduction="none")
    assert got.chunks == da.from_array(x, chunks=CHUNKS).chunks
    _assert_close_ulp(got.compute(), want, LOSS_ULPS, np.float64)


# At least 16 x 5 elements per chunk: <= 190 chunks, so that an example takes well under 1 s.
chunkings = st.tuples(
    st.lists(st.integers(16, 160), min_size=1, max_size=8),
    st.lists(st.integers(5, 47), min_size=1, max_size=5),
)


def _fit(sizes, total):
    """Chunk sizes along an axis of length total: sizes cycled, the last one cut."""
    out, k = [], 0
    while sum(out) < total:
        out.append(min(sizes[k % len(sizes)], total - sum(out)))
        k += 1
    return tuple(out)


@settings(max_examples=20)
@given(chunkings)
def test_reduced_loss_is_exact_for_any_chunking(sizes):
    """For any chunking, mean and weighted_mean equal the NumPy path to 1e-14 relative."""
    y, x = _data(3, True)
    w = np.random.default_rng(3).uniform(0.1, 2.0, SHAPE)
    chunks = (_fit(sizes[0], SHAPE[0]), _fit(sizes[1], SHAPE[1]))
    X, Y, W = (da.from_array(a, chunks=chunks) for a in (x, y, w))
    for red in ("mean", "weighted_mean"):
        want = cbce.bce(y, x, from_logits=True, sample_weight=w, reduction=red)
        got = cd.bce(Y, X, from_logits=True, sample_weight=W, reduction=red).compute(scheduler="sync")
        assert _rel(got, want) <= 1e-14, (red, chunks)


@pytest.mark.parametrize("reduction", ["sum", "weighted_mean"])
def test_reduced_loss_does_not_depend_on_the_tree(reduction):
    """The reduced loss is bitwise the same for every split_every and scheduler (one chunking)."""
    y, x = _data(4, True, shape=(10_000,))
    w = np.linspace(0.1, 3.0, 10_000)
    X, Y, W = (da.from_array(a, chunks=97) for a in (x, y, w))
    values = set()
    for split_every in (2, 3, 8, 200):
        with dask.config.set(split_every=split_every):
            loss = cd.bce(Y, X, from_logits=True, sample_weight=W, reduction=reduction)
            for scheduler in ("sync", "threads"):
                values.add(float(loss.compute(scheduler=scheduler)).hex())
    assert len(values) == 1, values


def test_one_chunk_is_bitwise_the_numpy_path():
    """With a single chunk, the reduced loss is bitwise cbce.bce's."""
    y, x = _data(5, True)
    want = cbce.bce(y, x, from_logits=True, reduction="mean")
    assert float(cd.bce(y, da.from_array(x), from_logits=True).compute()) == want


# --------------------------------------------------------------------------------------------------
# Gradients and hessians

def _both(op, y, x, w, y_in, x_in, w_in, **opts):
    """{"loss", "grad", "hess"} of op from the NumPy path (y, x, w) and from cbce.dask (y_in, x_in,
    w_in; computed together)."""
    fns = {"grad": (cbce.bce_grad, cd.bce_grad, ("grad",)),
           "loss_and_grad": (cbce.bce_loss_and_grad, cd.bce_loss_and_grad, ("loss", "grad")),
           "grad_hess": (cbce.bce_grad_hess, cd.bce_grad_hess, ("grad", "hess"))}
    ref_fn, dask_fn, keys = fns[op]
    if op == "grad_hess":
        opts.pop("from_logits")
    want = ref_fn(y, x, sample_weight=w, **opts)
    got = dask_fn(y_in, x_in, sample_weight=w_in, **opts)
    want, got = (r if isinstance(r, tuple) else (r,) for r in (want, got))
    return dict(zip(keys, want)), dict(zip(keys, dask.compute(*got, scheduler="threads")))


OPS = ["grad", "loss_and_grad", "grad_hess"]


@pytest.mark.parametrize("weights", list(WEIGHTS))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("op", OPS)
def test_float64_gradients_match_numpy_path(op, reduction, weights, rng):
    """float64 gradients/hessians: bitwise the NumPy path's, except weighted_mean with weights
    (the divisors Σw may differ in their last bit: 4 ulp); reduced losses to 1e-14."""
    y, x = _data(6, True)
    w_np, w_in = _weight(weights, rng)
    want, got = _both(op, y, x, w_np, da.from_array(y, chunks=CHUNKS),
                      da.from_array(x, chunks=CHUNKS), w_in,
                      from_logits=True, pos_weight=2.5, reduction=reduction)
    for k in got:
        if k == "loss" and reduction != "none":
            assert _rel(got[k], want[k]) <= 1e-14
        elif k == "loss":
            _assert_close_ulp(got[k], want[k], LOSS_ULPS, np.float64)
        elif reduction == "weighted_mean" and w_np is not None:
            _assert_close_ulp(got[k], want[k], 4, np.float64)
        else:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("op", OPS)
def test_float32_gradients_match_numpy_path(op, reduction, rng):
    """float32: gradients/hessians within 2 float32 ulp of the NumPy path (the scale is applied
    after the kernel, module note C), losses to 1e-14, outputs float32."""
    y, x = _data(7, True, np.float32)
    w = rng.uniform(0.2, 3.0, (SHAPE[0], 1)).astype(np.float32)
    want, got = _both(op, y, x, w, da.from_array(y, chunks=CHUNKS), da.from_array(x, chunks=CHUNKS),
                      w, from_logits=True, reduction=reduction)
    for k in got:
        if k == "loss" and reduction != "none":
            assert _rel(got[k], want[k]) <= 1e-14
        else:
            assert got[k].dtype == np.float32
            _assert_close_ulp(got[k], want[k], 2, np.float32)


def test_probability_gradients_with_every_option(rng):
    """Probabilities with label smoothing, eps, pos_weight as a dask array and per-row weights."""
    y, x = _data(8, False)
    pw = rng.uniform(1.0, 4.0, SHAPE[1])
    w = rng.uniform(0.2, 3.0, (SHAPE[0], 1))
    opts = dict(from_logits=False, label_smoothing=0.1, eps=1e-3, reduction="mean")
    want_l, want_g = cbce.bce_loss_and_grad(y, x, sample_weight=w, pos_weight=pw, **opts)
    got_l, got_g = cd.bce_loss_and_grad(da.from_array(y, chunks=CHUNKS), da.from_array(x, chunks=CHUNKS),
                                        sample_weight=da.from_array(w, chunks=(100, 1)),
                                        pos_weight=da.from_array(pw, chunks=11), **opts)
    got_l, got_g = dask.compute(got_l, got_g)
    assert _rel(got_l, want_l) <= 1e-14
    np.testing.assert_array_equal(got_g, want_g)


@pytest.mark.parametrize("wanted", ["both", "loss", "grad"])
def test_one_core_call_per_chunk(monkeypatch, wanted):
    """dask.compute(loss, grad), or either alone, runs one core call per chunk."""
    calls, lock = [], threading.Lock()
    original = cd._call

    def counting(op, *args):
        with lock:
            calls.append(op)
        return original(op, *args)

    monkeypatch.setattr(cd, "_call", counting)
    y, x = _data(9, True)
    X = da.from_array(x, chunks=CHUNKS)
    loss, grad = cd.bce_loss_and_grad(da.from_array(y, chunks=CHUNKS), X, from_logits=True,
                                      sample_weight=np.linspace(1, 2, SHAPE[1]),
                                      reduction="weighted_mean")
    todo = {"both": (loss, grad), "loss": (loss,), "grad": (grad,)}[wanted]
    dask.compute(*todo, scheduler="threads")
    assert calls == ["loss_grad"] * X.npartitions


def test_outputs_take_y_pred_chunks_and_dtype():
    """Outputs have y_pred's chunks; y_true with other chunks, or as NumPy, is aligned to them."""
    y, x = _data(10, True, np.float32)
    X = da.from_array(x, chunks=CHUNKS)
    g, h = cd.bce_grad_hess(da.from_array(y, chunks=(100, 47)), X)
    assert g.chunks == X.chunks and h.chunks == X.chunks
    assert g.dtype == np.float32 and h.dtype == np.float32
    assert cd.bce_grad(y, X, from_logits=True).chunks == X.chunks


def test_numpy_inputs_give_dask_arrays():
    """NumPy inputs are accepted (one chunk) and give lazy dask arrays."""
    y, x = _data(11, True)
    loss, grad = cd.bce_loss_and_grad(y, x, from_logits=True)
    assert isinstance(loss, da.Array) and isinstance(grad, da.Array)
    want_l, want_g = cbce.bce_loss_and_grad(y, x, from_logits=True)
    assert _rel(loss.compute(), want_l) <= 1e-14  # Σ(l/N), not Σl/N: module note C
    np.testing.assert_array_equal(grad.compute(), want_g)


def test_empty_input():
    """Empty input: mean -> nan, sum -> 0.0, none -> empty, as the NumPy path."""
    x = da.zeros((0,), chunks=1)
    assert math.isnan(float(cd.bce(x, x, from_logits=True).compute()))
    assert float(cd.bce(x, x, from_logits=True, reduction="sum").compute()) == 0.0
    assert cd.bce_grad(x, x, from_logits=True).compute().shape == (0,)


# --------------------------------------------------------------------------------------------------
# Errors

def test_options_are_checked_when_the_graph_is_built():
    """Bad options and shapes raise at the call, not at compute()."""
    X = da.zeros((10, 4), chunks=5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        cd.bce(X, X, reduction="avg")
    with pytest.raises(ValueError, match="n_threads"):
        cd.bce_grad(X, X, n_threads=0)
    with pytest.raises(ValueError, match="eps applies to probabilities only"):
        cd.bce(X, X, from_logits=True, eps=1e-7)
    with pytest.raises(ValueError, match="same shape"):
        cd.bce(X[:5], X)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) cannot be broadcast"):
        cd.bce(X, X, sample_weight=np.ones(3))
    with pytest.raises(TypeError, match="y_pred must hold real numbers"):
        cd.bce(X, da.from_array(np.array(["a"] * 40).reshape(10, 4)))


def test_range_error_names_the_global_index():
    """A y_true outside [0, 1] in a later chunk is reported at its index in the whole array."""
    y = np.zeros((40, 6))
    y[33, 4] = 2.0
    X = da.zeros((40, 6), chunks=(10, 3))
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\]; found 2.0 at index \(33, 4\)"):
        cd.bce(da.from_array(y, chunks=(10, 3)), X, from_logits=True).compute(scheduler="sync")


# --------------------------------------------------------------------------------------------------
# Imports and a real cluster

def test_import_cbce_imports_no_optional_package():
    """`import cbce` imports none of dask, xgboost, lightgbm; cbce.xgboost/cbce.lightgbm import
    neither library either."""
    code = ("import sys, cbce, cbce.xgboost, cbce.lightgbm; "
            "print(sorted(m for m in ('dask', 'distributed', 'xgboost', 'lightgbm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.sep,
                         timeout=120, check=True).stdout
    assert out.strip() == "[]"


def test_without_dask_the_import_error_says_what_to_install():
    """`import cbce.dask` where dask cannot be imported names the extra to install."""
    code = ("import sys; sys.modules['dask'] = None\n"
            "try:\n    import cbce.dask\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.sep,
                         timeout=120, check=True).stdout
    assert "pip install 'cbce[dask]'" in out


def _worker_facts():
    import cbce as c
    return os.environ.get("OMP_NUM_THREADS"), c.__file__


def test_distributed_cluster_with_two_worker_processes_matches_numpy_path():
    """On a dask.distributed LocalCluster of 2 worker processes: loss and gradient (weighted_mean,
    dask weights) equal the NumPy path; workers run with OMP_NUM_THREADS=1 (docs/guide/dask.md)."""
    distributed = pytest.importorskip("distributed", reason="distributed is not installed "
                                      "(pip install distributed)")
    y, x = _data(12, True)
    w = np.random.default_rng(12).uniform(0.2, 3.0, SHAPE)
    want_l, want_g = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w,
                                            reduction="weighted_mean")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, timeout="60s") as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        facts = client.run(_worker_facts)
        assert len(facts) == 2
        for omp, path in facts.values():
            assert omp == "1"
            assert os.path.realpath(path) == os.path.realpath(cbce.__file__)
        loss, grad = cd.bce_loss_and_grad(da.from_array(y, chunks=CHUNKS), da.from_array(x, chunks=CHUNKS),
                                          from_logits=True, sample_weight=da.from_array(w, chunks=CHUNKS),
                                          reduction="weighted_mean")
        got_l, got_g = client.compute([loss, grad], sync=False)
        got_l, got_g = got_l.result(timeout=120), got_g.result(timeout=120)
    assert _rel(got_l, want_l) <= 1e-14
    _assert_close_ulp(got_g, want_g, 4, np.float64)
