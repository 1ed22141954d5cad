"""The seed's properties of BCE: non-negative, exactly 0 at a perfect prediction, convex in the logits."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cbce

EPS64 = np.finfo(np.float64).eps
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)

labels = st.floats(0.0, 1.0)
logits = st.floats(-1e300, 1e300, allow_nan=False)
probabilities = st.floats(0.0, 1.0)
positive_weights = st.floats(0.0, 10.0)


def _vectors(elements, size=8):
    return hnp.arrays(np.float64, size, elements=elements)


@PROPERTY_SETTINGS
@given(y=_vectors(labels), x=_vectors(logits), pw=_vectors(positive_weights), w=_vectors(positive_weights))
def test_loss_is_non_negative_and_finite_from_logits(y, x, pw, w):
    """From logits, every per-element loss is >= 0 and finite, with weights and pos_weight."""
    loss = cbce.bce(y, x, from_logits=True, pos_weight=pw, sample_weight=w, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(loss >= 0), (x, loss)


@PROPERTY_SETTINGS
@given(y=_vectors(labels), x=_vectors(probabilities), pw=_vectors(positive_weights), w=_vectors(positive_weights))
def test_loss_is_non_negative_and_finite_from_probabilities(y, x, pw, w):
    """From probabilities (0 and 1 included), every per-element loss is >= 0 and finite."""
    loss = cbce.bce(y, x, pos_weight=pw, sample_weight=w, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(loss >= 0), (x, loss)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_outputs_finite_for_finite_inputs(dtype, rng):
    """Loss, grad and hess are finite for every finite input, across all magnitudes and both tails."""
    finite_max = float(np.finfo(dtype).max) / 8  # 3.5·x stays finite
    magnitudes = np.geomspace(float(np.finfo(dtype).smallest_subnormal), finite_max, 400)
    x = np.concatenate([magnitudes, -magnitudes, [0.0]]).astype(dtype)
    y = rng.uniform(0, 1, x.size).astype(dtype)
    y[::3], y[1::3] = 0, 1
    opts = {"pos_weight": 3.5, "sample_weight": rng.uniform(0, 2, x.size).astype(dtype)}
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, reduction="none", **opts)
    g2, hess = cbce.bce_grad_hess(y, x, reduction="none", **opts)
    p = np.abs(x) / finite_max
    p[:4] = [0, 1, np.finfo(dtype).smallest_subnormal, 1 - np.finfo(dtype).epsneg]
    ploss, pgrad = cbce.bce_loss_and_grad(y, p, reduction="none", **opts)
    for name, a in [("loss", loss), ("grad", grad), ("grad_hess grad", g2), ("hess", hess),
                    ("probability loss", ploss), ("probability grad", pgrad)]:
        assert np.all(np.isfinite(a)), f"{name} not finite at x={x[~np.isfinite(a)][:5]}"


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_is_exactly_zero_at_perfect_probabilities(dtype, reduction):
    """Probabilities equal to 0/1 labels give a loss of exactly 0, weighted or not."""
    y = np.array([0, 1, 1, 0, 1], dtype=dtype)
    loss = cbce.bce(y, y.copy(), sample_weight=np.arange(1.0, 6.0), pos_weight=3.5, reduction=reduction)
    assert np.all(np.asarray(loss) == 0), loss


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_is_exactly_zero_at_perfect_probabilities(dtype):
    """At a perfect probability prediction the gradient is exactly 0 (a minimum)."""
    y = np.array([0, 1, 1, 0, 1], dtype=dtype)
    grad = cbce.bce_grad(y, y.copy(), pos_weight=3.5, reduction="none")
    assert np.all(grad == 0), grad


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_is_exactly_zero_at_saturated_matching_logits(dtype, reduction):
    """Logits ±1000 matching the labels give exactly 0: softplus(-1000) = e^-1000 underflows."""
    y = np.array([0, 1, 1, 0], dtype=dtype)
    x = np.where(y == 1, 1000, -1000).astype(dtype)
    loss = cbce.bce(y, x, from_logits=True, pos_weight=3.5, reduction=reduction)
    assert np.all(np.asarray(loss) == 0), loss


@PROPERTY_SETTINGS
@given(y=_vectors(labels), x=_vectors(logits), pw=_vectors(positive_weights))
def test_hess_is_non_negative(y, x, pw):
    """The hessian in the logits is >= 0 everywhere (convexity, second-order form)."""
    _, hess = cbce.bce_grad_hess(y, x, pos_weight=pw, reduction="none")
    assert np.all(hess >= 0), (x, hess)


@PROPERTY_SETTINGS
@given(y=_vectors(labels), a=_vectors(logits), b=_vectors(logits), pw=_vectors(positive_weights))
def test_loss_is_midpoint_convex_in_logits(y, a, b, pw):
    """l((a+b)/2) <= (l(a)+l(b))/2 per element, up to 4 ulp per value and the midpoint's rounding."""
    m = a / 2 + b / 2
    f = lambda z: cbce.bce(y, z, from_logits=True, pos_weight=pw, reduction="none")  # noqa: E731
    la, lb, lm = f(a), f(b), f(m)
    chord = la / 2 + lb / 2
    lipschitz = np.maximum(1 - y, pw * y)  # |l'| <= max(1-y, pw·y)
    tol = 8 * EPS64 * (lm + chord) + lipschitz * np.spacing(np.abs(m))
    assert np.all(lm <= chord + tol), (a, b, lm, chord)
