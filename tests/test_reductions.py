"""Reductions, weights, pos_weight, label smoothing, eps and empty input (docs/semantics.md)."""
import math

import numpy as np
import pytest

import cbce
import _reference as ref

EPS64 = np.finfo(np.float64).eps
SHAPE = (40, 7)
KINDS = [pytest.param(True, id="logits"), pytest.param(False, id="probabilities")]
WEIGHT_SHAPES = {"scalar": (), "per-row": (SHAPE[0], 1), "per-column": (SHAPE[1],), "full": SHAPE}


def _data(rng, from_logits, shape=SHAPE):
    x = rng.normal(0, 3, shape) if from_logits else rng.uniform(0.01, 0.99, shape)
    y = rng.uniform(0, 1, shape)
    y.ravel()[::4] = 0
    y.ravel()[1::4] = 1
    return y, x


def _close(got, expected, rtol):
    return abs(got - expected) <= rtol * abs(expected)


@pytest.mark.parametrize("from_logits", KINDS)
def test_sum_is_fsum_of_none(from_logits, rng):
    """reduction="sum" is the sum of the per-element losses to 1e-14."""
    y, x = _data(rng, from_logits)
    total = cbce.bce(y, x, from_logits=from_logits, reduction="sum")
    exact = math.fsum(cbce.bce(y, x, from_logits=from_logits, reduction="none").ravel())
    assert _close(total, exact, 1e-14), (total, exact)


@pytest.mark.parametrize("from_logits", KINDS)
def test_mean_is_sum_over_size(from_logits, rng):
    """reduction="mean" is Σl / N with N = x.size (PyTorch, Keras)."""
    y, x = _data(rng, from_logits)
    mean = cbce.bce(y, x, from_logits=from_logits, reduction="mean")
    total = cbce.bce(y, x, from_logits=from_logits, reduction="sum")
    assert _close(mean, total / x.size, 2 * EPS64), (mean, total / x.size)


def test_mean_is_the_default_reduction(rng):
    """Without reduction=, bce returns the mean."""
    y, x = _data(rng, True)
    assert cbce.bce(y, x, from_logits=True) == cbce.bce(y, x, from_logits=True, reduction="mean")


@pytest.mark.parametrize("weight_shape", list(WEIGHT_SHAPES))
@pytest.mark.parametrize("from_logits", KINDS)
def test_weighted_mean_is_hand_weighted_sum(from_logits, weight_shape, rng):
    """reduction="weighted_mean" is Σ w·l / Σ w with w broadcast to x.shape (scikit-learn, XGBoost)."""
    y, x = _data(rng, from_logits)
    w = rng.uniform(0.1, 3.0, WEIGHT_SHAPES[weight_shape])
    got = cbce.bce(y, x, from_logits=from_logits, sample_weight=w, reduction="weighted_mean")
    per_element = cbce.bce(y, x, from_logits=from_logits, reduction="none")
    wb = np.broadcast_to(w, SHAPE)
    expected = math.fsum((wb * per_element).ravel()) / math.fsum(wb.ravel())
    assert _close(got, expected, 1e-14), (got, expected)


@pytest.mark.parametrize("weight_shape", list(WEIGHT_SHAPES))
@pytest.mark.parametrize("from_logits", KINDS)
def test_none_with_sample_weight_is_weight_times_loss(from_logits, weight_shape, rng):
    """Per-element losses are multiplied by the broadcast sample_weight."""
    y, x = _data(rng, from_logits)
    w = rng.uniform(0.1, 3.0, WEIGHT_SHAPES[weight_shape])
    got = cbce.bce(y, x, from_logits=from_logits, sample_weight=w, reduction="none")
    expected = np.broadcast_to(w, SHAPE) * cbce.bce(y, x, from_logits=from_logits, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=4 * EPS64, atol=0)


@pytest.mark.parametrize("from_logits", KINDS)
def test_weighted_mean_without_weights_is_mean(from_logits, rng):
    """With no sample_weight, Σw = N and weighted_mean equals mean."""
    y, x = _data(rng, from_logits)
    got = cbce.bce(y, x, from_logits=from_logits, reduction="weighted_mean")
    mean = cbce.bce(y, x, from_logits=from_logits, reduction="mean")
    assert _close(got, mean, 2 * EPS64), (got, mean)


@pytest.mark.parametrize("from_logits", KINDS)
def test_scalar_weight_cancels_in_weighted_mean(from_logits, rng):
    """A scalar sample_weight scales sum and mean but cancels in weighted_mean."""
    y, x = _data(rng, from_logits)
    plain = {r: cbce.bce(y, x, from_logits=from_logits, reduction=r) for r in ("sum", "mean")}
    weighted = {r: cbce.bce(y, x, from_logits=from_logits, sample_weight=2.5, reduction=r)
                for r in ("sum", "mean", "weighted_mean")}
    assert _close(weighted["sum"], 2.5 * plain["sum"], 4 * EPS64)
    assert _close(weighted["mean"], 2.5 * plain["mean"], 4 * EPS64)
    assert _close(weighted["weighted_mean"], plain["mean"], 4 * EPS64)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("from_logits", KINDS)
def test_grad_is_scaled_like_its_reduction(from_logits, reduction, rng):
    """The gradient is the per-element gradient ×1 (none, sum), ÷N (mean) or ÷Σw (weighted_mean)."""
    y, x = _data(rng, from_logits)
    w = rng.uniform(0.1, 3.0, (SHAPE[1],))
    opts = {"from_logits": from_logits, "sample_weight": w, "pos_weight": 2.0}
    got = cbce.bce_grad(y, x, reduction=reduction, **opts)
    per_element = cbce.bce_grad(y, x, reduction="none", **opts)
    factor = ref.scale_factor(reduction, np.broadcast_to(w, SHAPE))
    scale = ref.grad_scale(y, x, reduction=reduction, **opts)
    assert np.all(np.abs(got - per_element * factor) <= 8 * EPS64 * scale), reduction


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
def test_hess_is_scaled_like_its_reduction(reduction, rng):
    """bce_grad_hess scales grad and hess alike: ×1, ÷N or ÷Σw."""
    y, x = _data(rng, True)
    w = rng.uniform(0.1, 3.0, (SHAPE[0], 1))
    grad, hess = cbce.bce_grad_hess(y, x, sample_weight=w, reduction=reduction)
    grad1, hess1 = cbce.bce_grad_hess(y, x, sample_weight=w, reduction="none")
    factor = ref.scale_factor(reduction, np.broadcast_to(w, SHAPE))
    scale = ref.grad_scale(y, x, from_logits=True, sample_weight=w, reduction=reduction)
    assert np.all(np.abs(grad - grad1 * factor) <= 8 * EPS64 * scale)
    np.testing.assert_allclose(hess, hess1 * factor, rtol=4 * EPS64, atol=0)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("from_logits", KINDS)
def test_loss_and_grad_agree_with_separate_calls(from_logits, reduction, rng):
    """bce_loss_and_grad returns what bce and bce_grad return."""
    y, x = _data(rng, from_logits)
    opts = {"from_logits": from_logits, "sample_weight": rng.uniform(0.1, 3.0, SHAPE), "reduction": reduction}
    loss, grad = cbce.bce_loss_and_grad(y, x, **opts)
    scale = ref.grad_scale(y, x, **opts)
    np.testing.assert_allclose(loss, cbce.bce(y, x, **opts), rtol=4 * EPS64, atol=0)
    assert np.all(np.abs(grad - cbce.bce_grad(y, x, **opts)) <= 8 * EPS64 * scale)


@pytest.mark.parametrize("ls", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("from_logits", KINDS)
def test_label_smoothing_replaces_y_by_smoothed_labels(from_logits, ls, rng):
    """label_smoothing=ls equals passing y·(1-ls) + 0.5·ls as labels (Keras' formula)."""
    y, x = _data(rng, from_logits)
    smoothed = y * (1 - ls) + 0.5 * ls
    opts = {"from_logits": from_logits, "pos_weight": 3.0, "reduction": "none"}
    loss, grad = cbce.bce_loss_and_grad(y, x, label_smoothing=ls, **opts)
    loss_s, grad_s = cbce.bce_loss_and_grad(smoothed, x, **opts)
    # y·(1-ls) + 0.5·ls may round differently in the kernel (one ulp of y, times |log| or |x|).
    np.testing.assert_allclose(loss, loss_s, rtol=1e-13, atol=1e-15)
    scale = ref.grad_scale(smoothed, x, **opts)
    assert np.all(np.abs(grad - grad_s) <= 1e-13 * scale + 1e-15)


@pytest.mark.parametrize("from_logits", KINDS)
def test_pos_weight_broadcasts_like_a_full_array(from_logits, rng):
    """A per-column pos_weight gives what the same values broadcast to x.shape give."""
    y, x = _data(rng, from_logits)
    pw = rng.uniform(0.5, 5.0, SHAPE[1])
    full = np.ascontiguousarray(np.broadcast_to(pw, SHAPE))
    for reduction in ("none", "sum"):
        got = cbce.bce(y, x, from_logits=from_logits, pos_weight=pw, reduction=reduction)
        expected = cbce.bce(y, x, from_logits=from_logits, pos_weight=full, reduction=reduction)
        np.testing.assert_allclose(got, expected, rtol=4 * EPS64, atol=0)


@pytest.mark.parametrize("from_logits", KINDS)
def test_pos_weight_scales_only_the_positive_term(from_logits, rng):
    """pos_weight multiplies the y-term of the loss only: matches the reference formula."""
    y, x = _data(rng, from_logits)
    pw = rng.uniform(0.5, 5.0, (SHAPE[0], 1))
    got = cbce.bce(y, x, from_logits=from_logits, pos_weight=pw, reduction="none")
    expected = ref.bce(y, x, from_logits=from_logits, pos_weight=pw, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("from_logits", KINDS)
def test_pos_weight_one_is_the_default(from_logits, rng):
    """pos_weight=1 gives the same loss and gradient as no pos_weight."""
    y, x = _data(rng, from_logits)
    loss1, grad1 = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, pos_weight=1.0, reduction="none")
    loss0, grad0 = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, reduction="none")
    np.testing.assert_array_equal(loss1, loss0)
    np.testing.assert_array_equal(grad1, grad0)


@pytest.mark.parametrize("eps", [1e-7, np.finfo(np.float64).eps, 0.1])
def test_eps_clips_probabilities_before_loss_and_grad(eps, rng):
    """With eps given, x is clipped to [eps, 1-eps] and loss and grad are evaluated there."""
    y, x = _data(rng, False, shape=(50,))
    x[:6] = [0.0, 1.0, 1e-300, 1 - 1e-16, eps / 2, 1 - eps / 2]
    loss, grad = cbce.bce_loss_and_grad(y, x, eps=eps, reduction="none")
    clipped = np.clip(x, eps, 1 - eps)
    loss_c, grad_c = cbce.bce_loss_and_grad(y, clipped, reduction="none")
    np.testing.assert_allclose(loss, loss_c, rtol=4 * EPS64, atol=0)
    np.testing.assert_allclose(grad, grad_c, rtol=4 * EPS64, atol=4 * EPS64 * np.abs(grad_c).max())


@pytest.mark.parametrize(("y", "x", "expected"), [
    pytest.param(1.0, 0.0, 100.0, id="y=1-x=0"),
    pytest.param(0.0, 1.0, 100.0, id="y=0-x=1"),
    pytest.param(1.0, 1e-300, 100.0, id="y=1-x=1e-300"),
    pytest.param(0.5, 0.0, 50.0, id="y=0.5-x=0"),
])
def test_saturated_probability_costs_100_not_inf(y, x, expected):
    """Without eps, log is clamped at -100 (PyTorch): a saturated wrong prediction costs 100."""
    assert cbce.bce([y], [x], reduction="sum") == expected


EMPTY_LOSS = {"sum": 0.0, "mean": math.nan, "weighted_mean": math.nan}


@pytest.mark.parametrize("shape", [(0,), (0, 3)], ids=["(0,)", "(0,3)"])
@pytest.mark.parametrize("reduction", list(EMPTY_LOSS))
@pytest.mark.parametrize("from_logits", KINDS)
def test_empty_input_reduces_to_zero_or_nan(from_logits, reduction, shape):
    """Empty input: sum → 0.0, mean and weighted_mean → nan, no crash."""
    y = np.empty(shape)
    loss = cbce.bce(y, np.empty(shape), from_logits=from_logits, reduction=reduction)
    assert type(loss) is float
    expected = EMPTY_LOSS[reduction]
    assert (math.isnan(loss) and math.isnan(expected)) or loss == expected, loss


@pytest.mark.parametrize("shape", [(0,), (0, 3)], ids=["(0,)", "(0,3)"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_empty_input_gives_empty_arrays(dtype, shape):
    """Empty input: reduction="none" and every gradient and hessian are empty arrays of x's shape."""
    y, x = np.empty(shape, dtype), np.empty(shape, dtype)
    results = {
        "bce(none)": cbce.bce(y, x, reduction="none"),
        "bce_grad": cbce.bce_grad(y, x),
        "bce_loss_and_grad grad": cbce.bce_loss_and_grad(y, x)[1],
        "bce_grad_hess grad": cbce.bce_grad_hess(y, x)[0],
        "bce_grad_hess hess": cbce.bce_grad_hess(y, x)[1],
    }
    for name, a in results.items():
        assert isinstance(a, np.ndarray) and a.shape == shape and a.dtype == dtype, name


@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["float64", "float32", "float16"])
def test_reduced_loss_is_a_python_float(dtype, reduction, rng):
    """Reduced losses are Python floats for every dtype, from bce and bce_loss_and_grad."""
    y, x = _data(rng, True)
    assert type(cbce.bce(y, x.astype(dtype), from_logits=True, reduction=reduction)) is float
    assert type(cbce.bce_loss_and_grad(y, x.astype(dtype), from_logits=True, reduction=reduction)[0]) is float
