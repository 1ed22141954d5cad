"""No N-sized temporaries (docs/semantics.md, "copies"): loss and gradient in one pass over the
data, with no N-sized temporaries besides the outputs the caller asked for, and no copy of an
input that already has the compute dtype.

tracemalloc sees NumPy's array allocations (and PyMem's); the inputs here are contiguous and already
of the compute dtype, so the only allowed N-sized allocations are the returned arrays.
"""
import tracemalloc

import numpy as np
import pytest

import cbce

N = 10**6
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


def _peak_bytes(func):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = func()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def _inputs(dtype, from_logits):
    rng = np.random.default_rng(11)
    x = (rng.normal(0, 3, N) if from_logits else rng.uniform(0, 1, N)).astype(dtype)
    y = rng.uniform(0, 1, N).astype(dtype)
    w = rng.uniform(0.5, 2.0, N).astype(dtype)
    return y, x, w


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_loss_allocates_no_n_sized_array(dtype, from_logits):
    """bce(reduction="mean") with weights and pos_weight allocates less than 1/8 of x's size."""
    y, x, w = _inputs(dtype, from_logits)
    peak, _ = _peak_bytes(lambda: cbce.bce(y, x, from_logits=from_logits, sample_weight=w, pos_weight=2.0))
    assert peak < x.nbytes / 8, f"peak {peak} bytes for x of {x.nbytes} bytes"


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_into_out_allocates_no_n_sized_array(dtype):
    """bce_loss_and_grad(out=...) with weights allocates less than 1/8 of x's size."""
    y, x, w = _inputs(dtype, True)
    out = np.empty_like(x)
    peak, _ = _peak_bytes(lambda: cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w, out=out))
    assert peak < x.nbytes / 8, f"peak {peak} bytes for x of {x.nbytes} bytes"


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_hess_allocates_only_its_two_outputs(dtype):
    """bce_grad_hess allocates its grad and hess and (almost) nothing else."""
    y, x, w = _inputs(dtype, True)
    peak, _ = _peak_bytes(lambda: cbce.bce_grad_hess(y, x, sample_weight=w, pos_weight=3.0))
    assert peak < 2.125 * x.nbytes, f"peak {peak} bytes for x of {x.nbytes} bytes"
