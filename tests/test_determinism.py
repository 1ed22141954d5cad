"""Bitwise-reproducible reductions across thread counts and memory layouts (docs/semantics.md, "determinism").

Reduced losses are summed in fixed-size blocks combined in a fixed order, so they must not depend on
n_threads nor on whether x is a strided view or its contiguous copy. Sizes are large enough
(about 10^6, some odd) to span many blocks and to be run in parallel.
"""
import functools
import math

import numpy as np
import pytest

import cbce
import _reference as ref

N_THREADS = [1, 2, 3, 4, 7, None]
BIG = 10**6 + 37
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
KINDS = [pytest.param(True, id="logits"), pytest.param(False, id="probabilities")]
REDUCTIONS = ["sum", "mean", "weighted_mean"]


def _inputs(size, dtype, from_logits, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 4, size) if from_logits else rng.uniform(0, 1, size)
    y = (rng.uniform(0, 1, size) < 0.1).astype(dtype)  # imbalanced labels
    w = rng.uniform(0.5, 2.0, size).astype(dtype)
    return y, x.astype(dtype), w


@pytest.fixture(scope="module")
def big_inputs():
    """Inputs of 10^6 + 37 elements per (dtype, kind), built once."""
    cache = {}

    def get(dtype, from_logits, size=BIG):
        key = (np.dtype(dtype).name, from_logits, size)
        if key not in cache:
            cache[key] = _inputs(size, dtype, from_logits)
        return cache[key]
    return get


def _hex(v):
    return float(v).hex()


@pytest.mark.parametrize("size", [10**6, BIG], ids=["1e6", "1e6+37"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_loss_bitwise_identical_for_every_n_threads(dtype, from_logits, reduction, size, big_inputs):
    """bce's reduced loss is bitwise the same for n_threads in 1, 2, 3, 4, 7 and the default."""
    y, x, w = big_inputs(dtype, from_logits, size)
    losses = {n: cbce.bce(y, x, from_logits=from_logits, sample_weight=w, reduction=reduction, n_threads=n)
              for n in N_THREADS}
    assert len({_hex(v) for v in losses.values()}) == 1, {n: _hex(v) for n, v in losses.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_and_grad_bitwise_identical_for_every_n_threads(dtype, reduction, big_inputs):
    """bce_loss_and_grad's loss and gradient are bitwise the same for every n_threads."""
    y, x, w = big_inputs(dtype, True)
    first_loss, first_grad = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w,
                                                    reduction=reduction, n_threads=1)
    for n in N_THREADS[1:]:
        loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w,
                                            reduction=reduction, n_threads=n)
        assert _hex(loss) == _hex(first_loss), (n, _hex(loss), _hex(first_loss))
        np.testing.assert_array_equal(grad, first_grad, err_msg=f"n_threads={n}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_hess_bitwise_identical_for_every_n_threads(dtype, big_inputs):
    """bce_grad_hess is bitwise the same for every n_threads."""
    y, x, w = big_inputs(dtype, True)
    first = cbce.bce_grad_hess(y, x, sample_weight=w, reduction="weighted_mean", n_threads=1)
    for n in N_THREADS[1:]:
        grad, hess = cbce.bce_grad_hess(y, x, sample_weight=w, reduction="weighted_mean", n_threads=n)
        np.testing.assert_array_equal(grad, first[0], err_msg=f"grad, n_threads={n}")
        np.testing.assert_array_equal(hess, first[1], err_msg=f"hess, n_threads={n}")


@functools.lru_cache(maxsize=None)
def _strided_views(dtype, from_logits):
    """{layout: (y, x, w)} strided views of 0.67 to 2 million elements, built once per dtype and kind."""
    y, x, w = _inputs(2 * BIG, dtype, from_logits, seed=3)
    y2, x2, w2 = (a[: 666 * 3003].reshape(666, 3003) for a in (y, x, w))
    return {
        "step-2": (y[::2], x[::2], w[::2]),
        "reversed": (y[::-1], x[::-1], w[::-1]),
        "2d-columns-step-3": (y2[:, ::3], x2[:, ::3], w2[:, ::3]),
        "2d-fortran": (np.asfortranarray(y2), np.asfortranarray(x2), np.asfortranarray(w2)),
    }


LAYOUTS = ["step-2", "reversed", "2d-columns-step-3", "2d-fortran"]


@pytest.mark.parametrize("n_threads", [1, 4])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_view_bitwise_equals_contiguous_copy(dtype, from_logits, layout, n_threads):
    """Reduced losses of a strided view equal those of np.ascontiguousarray(view), bit for bit."""
    y, x, w = _strided_views(dtype, from_logits)[layout]
    contiguous = [np.ascontiguousarray(a) for a in (y, x, w)]
    for reduction in REDUCTIONS:
        opts = {"from_logits": from_logits, "sample_weight": w, "reduction": reduction, "n_threads": n_threads}
        got = cbce.bce(y, x, **opts)
        opts["sample_weight"] = contiguous[2]
        expected = cbce.bce(contiguous[0], contiguous[1], **opts)
        assert _hex(got) == _hex(expected), (reduction, _hex(got), _hex(expected))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_view_grad_equals_contiguous_copy(dtype, layout):
    """The gradient of a strided view equals that of its contiguous copy, element for element."""
    y, x, w = _strided_views(dtype, True)[layout]
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w)
    loss_c, grad_c = cbce.bce_loss_and_grad(*(np.ascontiguousarray(a) for a in (y, x)),
                                            from_logits=True, sample_weight=np.ascontiguousarray(w))
    assert grad.shape == x.shape
    np.testing.assert_array_equal(grad, grad_c)
    assert _hex(loss) == _hex(loss_c)


@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_within_1e_14_of_fsum_of_elements(dtype, from_logits, big_inputs):
    """reduction="sum" is within 1e-14 (relative) of math.fsum of the per-element losses."""
    y, x, w = big_inputs(dtype, from_logits)
    total = cbce.bce(y, x, from_logits=from_logits, sample_weight=w, reduction="sum")
    per_element = cbce.bce(y, x, from_logits=from_logits, sample_weight=w, reduction="none")
    candidates = [math.fsum(per_element.astype(np.float64).tolist())]
    if dtype is np.float32:
        # A float32 kernel may sum its float32 outputs or the unrounded values it computed them
        # from (evaluated in float64): either is a float64-accurate sum; a float32 accumulator is not.
        exact = ref.elementwise(y, x, from_logits=from_logits, sample_weight=w)["loss"]
        candidates.append(math.fsum(exact.ravel().tolist()))
    errors = [abs(total - c) / abs(c) for c in candidates]
    assert min(errors) <= 1e-14, (total, candidates, errors)


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_element_results_do_not_depend_on_their_place(dtype, from_logits):
    """An element's loss, gradient and hessian are the same bits wherever it sits: in an
    offset view, a slice or another chunk (run_block runs the element loops on multiples of
    their vector step only, so no element goes to a remainder loop)."""
    rng = np.random.default_rng(7)
    n = 3 * 2048 + 101
    x = (rng.normal(0, 3, n) if from_logits else rng.uniform(0, 1, n)).astype(dtype)
    y = rng.uniform(0, 1, n).astype(dtype)                 # soft labels: every rounding shows
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    for kw in ({"pos_weight": 2.5}, {"sample_weight": w, "pos_weight": 2.5}):
        full = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, reduction="none", **kw)
        hess = cbce.bce_grad_hess(y, x, reduction="none", **kw) if from_logits else None
        for off in (1, 7, 63, 2048 + 5):
            part_kw = {k: (v[off:] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
            part = cbce.bce_loss_and_grad(y[off:], x[off:], from_logits=from_logits,
                                          reduction="none", **part_kw)
            assert np.array_equal(part[0], full[0][off:]), (kw.keys(), off, "loss")
            assert np.array_equal(part[1], full[1][off:]), (kw.keys(), off, "grad")
            if from_logits:
                ph = cbce.bce_grad_hess(y[off:], x[off:], reduction="none", **part_kw)
                assert np.array_equal(ph[0], hess[0][off:]) and np.array_equal(ph[1], hess[1][off:])
