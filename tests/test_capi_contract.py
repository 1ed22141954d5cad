"""Each row of the C API's output contract (cbce.h, docs "C API reference", "Outputs and
reductions"), checked through the capsule table: *loss per reduction, loss_out unscaled, grad
and hess scaled, *bad_index, NULL outputs and options, n = 0, eps with from_logits."""
import math

import numpy as np
import pytest

import cbce

import _capi

N = 7


def _data(dtype=np.float64):
    rng = np.random.default_rng(3)
    y = rng.random(N).astype(dtype)
    x = rng.normal(0.0, 3.0, N).astype(dtype)
    w = rng.random(N).astype(dtype) + 0.5
    return y, x, w


@pytest.mark.parametrize("reduction", list(_capi.RED))
@pytest.mark.parametrize("weighted", [False, True], ids=["no_w", "w"])
def test_loss_and_outputs_per_reduction(reduction, weighted):
    """*loss is the reduced loss (NONE: the sum); loss_out unscaled; grad scaled; as Python."""
    y, x, w = _data()
    sw = w if weighted else None
    loss_out, grad = np.empty(N), np.empty(N)
    rc, loss, bad = _capi.run("loss_grad", y, x, sw=sw,
                              options={"from_logits": 1, "reduction": _capi.RED[reduction]},
                              loss_out=loss_out, grad_out=grad)
    assert (rc, bad) == (_capi.OK, -1)
    per = cbce.bce(y, x, from_logits=True, sample_weight=sw, reduction="none")
    assert np.array_equal(loss_out, per)                       # never scaled
    _, g = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=sw, reduction=reduction)
    assert np.array_equal(grad, g)
    scale = {"none": 1.0, "sum": 1.0, "mean": 1.0 / N,
             "weighted_mean": 1.0 / (w.sum() if weighted else N)}[reduction]
    g1 = cbce.bce_grad(y, x, from_logits=True, sample_weight=sw, reduction="sum")
    np.testing.assert_allclose(grad, g1 * scale, rtol=1e-15)
    total = math.fsum(per)
    expected = {"none": total, "sum": total, "mean": total / N,
                "weighted_mean": total / (math.fsum(w) if weighted else N)}[reduction]
    assert loss == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_hessian_is_scaled_like_the_gradient(reduction):
    """hess_out is weighted and scaled by the reduction, as grad_out."""
    y, x, w = _data()
    g, h = np.empty(N), np.empty(N)
    rc, _, _ = _capi.run("grad_hess", y, x, sw=w, options={"reduction": _capi.RED[reduction]},
                         loss=False, grad_out=g, hess_out=h)
    assert rc == _capi.OK
    eg, eh = cbce.bce_grad_hess(y, x, sample_weight=w, reduction=reduction)
    assert np.array_equal(g, eg) and np.array_equal(h, eh)


def test_bad_index_is_minus_one_on_success_and_on_argument_errors():
    """*bad_index: -1 on success and on CBCE_ERR_ARGUMENT, the first bad index on range errors."""
    y, x, _ = _data()
    g = np.empty(N)
    assert _capi.run("grad", y, x, options={"from_logits": 1}, grad_out=g)[::2] == (0, -1)
    assert _capi.run("grad", y, x, options={"reduction": 9}, grad_out=g)[::2] == (-1, -1)
    y[4] = 1.5
    y[6] = -1.0
    assert _capi.run("grad", y, x, options={"from_logits": 1}, grad_out=g)[::2] == (-2, 4)
    y[:] = 0.5
    p = np.full(N, 0.5)
    p[2] = 1.25
    assert _capi.run("grad", y, p, grad_out=g)[::2] == (-3, 2)


def test_null_outputs_options_and_bad_index():
    """NULL loss, loss_out, bad_index and options are allowed; NULL grad_out/hess_out are not."""
    y, x, _ = _data()
    rc, _, _ = _capi.run("loss", y, x, loss=False, bad_index=False, options={"from_logits": 1})
    assert rc == _capi.OK
    p = 1.0 / (1.0 + np.exp(-x))
    rc, loss, _ = _capi.run("loss", y, p)                     # options NULL: the defaults
    assert rc == _capi.OK and loss == cbce.bce(y, p)
    assert _capi.run("grad", y, x, options={"from_logits": 1})[0] == _capi.ERR_ARGUMENT
    assert _capi.run("grad_hess", y, x, grad_out=np.empty(N))[0] == _capi.ERR_ARGUMENT


@pytest.mark.parametrize("reduction,expected", [("none", 0.0), ("sum", 0.0),
                                                ("mean", math.nan), ("weighted_mean", math.nan)])
def test_empty_input(reduction, expected):
    """n = 0 with NULL arrays: CBCE_OK, *loss 0 for NONE/SUM and NaN for the means."""
    empty = np.empty(0)
    rc, loss, bad = _capi.run("loss", None, empty, options={"reduction": _capi.RED[reduction]})
    assert (rc, bad) == (_capi.OK, -1)
    assert loss == expected or (math.isnan(loss) and math.isnan(expected))


def test_eps_with_logits_is_an_argument_error_but_grad_hess_ignores_it():
    """eps clips probabilities: with from_logits it is CBCE_ERR_ARGUMENT; grad_hess ignores it."""
    y, x, _ = _data()
    g, h = np.empty(N), np.empty(N)
    assert _capi.run("grad", y, x, options={"from_logits": 1, "eps": 1e-7},
                     grad_out=g)[0] == _capi.ERR_ARGUMENT
    assert _capi.run("grad_hess", y, x, options={"eps": 1e-7, "from_logits": 0},
                     grad_out=g, hess_out=h)[0] == _capi.OK
    assert np.array_equal(g, cbce.bce_grad_hess(y, x)[0])


def _ulp32(a):
    return np.spacing(np.abs(a).astype(np.float32)).astype(np.float64)


def test_float32_gradients_of_grad_and_grad_hess_differ_within_the_documented_bound():
    """grad (float arithmetic) and grad_hess (double) agree within 8 float32 ulp of the size of
    the gradient's terms (sigma(x) and y), the bound the docs state; on cancelling gradients
    this is far more than 8 ulp of the gradient itself."""
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 4.0, 200_000).astype(np.float32)
    s = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    # Soft labels at sigma(x), up to rounding: the gradient cancels.
    y = np.clip(s * (1.0 + rng.normal(0.0, 1e-6, x.size)), 0.0, 1.0).astype(np.float32)
    g1 = cbce.bce_grad(y, x, from_logits=True, reduction="sum").astype(np.float64)
    g2 = cbce.bce_grad_hess(y, x, reduction="sum")[0].astype(np.float64)
    size = np.maximum(s, y.astype(np.float64))
    d = np.abs(g1 - g2) / _ulp32(size)
    assert d.max() <= 8.0
    own = np.abs(g1 - g2) / np.maximum(_ulp32(g2), np.finfo(np.float32).smallest_subnormal)
    assert own.max() > 8.0      # the difference the docs warn about is real


def test_empty_input_takes_null_outputs():
    """n = 0: NULL arrays everywhere, grad_out and hess_out included, is CBCE_OK."""
    empty = np.empty(0)
    for op in ("grad", "loss_grad", "grad_hess"):
        rc, _, bad = _capi.run(op, None, empty)
        assert (rc, bad) == (_capi.OK, -1), op
