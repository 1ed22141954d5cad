"""The gradient-boosting objectives and metrics without the libraries: one cbce pass, the hessian
floor, the call signatures, options (docs/guide/gbdt.md). Training parity: test_xgboost.py,
test_lightgbm.py."""
import pickle

import numpy as np
import pytest
from scipy.special import expit

import cbce
import cbce.lightgbm as clgb
import cbce.xgboost as cxgb

FLOOR = 1e-16  # XGBoost binary:logistic's


class FakeData:
    """What both libraries' objects offer a custom objective: labels and (maybe no) weights."""

    def __init__(self, label, weight=None):
        self.label, self.weight = label, weight

    def get_label(self):
        return self.label

    def get_weight(self):
        return self.weight


def _data(rng, n=1000, dtype=np.float64):
    margins = rng.normal(0, 4, n).astype(dtype)
    y = (rng.uniform(0, 1, n) < 0.4).astype(np.float32)  # the libraries' label dtype
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    return y, margins, w


NATIVE = [pytest.param(cxgb, id="xgboost"), pytest.param(clgb, id="lightgbm")]


@pytest.mark.parametrize("lib", NATIVE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_objective_is_one_bce_grad_hess_pass(lib, dtype, rng):
    """Away from the floor, (grad, hess) are bitwise cbce.bce_grad_hess(reduction="none")."""
    y, x, w = _data(rng, dtype=dtype)
    opts = dict(pos_weight=3.0, label_smoothing=0.05)
    grad, hess = lib.objective(**opts)(x, FakeData(y, w))
    want_g, want_h = cbce.bce_grad_hess(y, x, sample_weight=w, reduction="none", **opts)
    assert grad.dtype == dtype and hess.dtype == dtype
    np.testing.assert_array_equal(grad, want_g)
    np.testing.assert_array_equal(hess, want_h)


@pytest.mark.parametrize("lib", NATIVE)
def test_sklearn_objective_equals_native(lib, rng):
    """The scikit-learn signature gives what the native one gives, weights passed third."""
    y, x, w = _data(rng)
    native = lib.objective(pos_weight=2.0)(x, FakeData(y, w))
    sk = lib.sklearn_objective(pos_weight=2.0)(y, x, w)
    for a, b in zip(native, sk):
        np.testing.assert_array_equal(a, b)


def test_xgboost_formula(rng):
    """grad = w·spw_y·(p − y), hess = w·spw_y·max(p(1 − p), 1e-16): binary:logistic's, in float64."""
    y, x, w = _data(rng)
    x[:4] = [40.0, -40.0, 60.0, -60.0]  # where the floor acts
    grad, hess = cxgb.objective(pos_weight=3.0)(x, FakeData(y, w))
    p, q = expit(x), expit(-x)  # p − y as (1 − y)·p − y·q: no cancellation for the reference
    ww = w * np.where(y == 1, 3.0, 1.0)
    np.testing.assert_allclose(grad, ww * ((1 - y) * p - y * q), rtol=1e-13)
    np.testing.assert_allclose(hess, ww * np.maximum(p * q, FLOOR), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_hessian_is_floored_and_positive(dtype):
    """Hessians are >= 1e-16·w·(pw·y + 1 − y) for every margin, infinite ones included."""
    x = np.array([0.0, 30.0, -37.0, 50.0, -120.0, 800.0, -1e30, np.inf, -np.inf], dtype)
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0], np.float32)
    w = np.linspace(0.5, 2.0, x.size).astype(np.float32)
    _, hess = cxgb.objective(pos_weight=4.0)(x, FakeData(y, w))
    lo = (FLOOR * w.astype(np.float64) * np.where(y == 1, 4.0, 1.0)).astype(dtype)
    assert np.all(hess >= lo) and np.all(hess > 0)
    assert hess[0] == dtype(0.25 * w[0] * 1.0)  # untouched where σσ is large
    _, raw = cxgb.objective(hess_floor=0.0)(x, FakeData(y, w))
    assert raw[-1] == 0.0  # without the floor, σσ underflows


def test_floor_follows_soft_labels_and_smoothing():
    """With soft labels and smoothing the floor is 1e-16·w·(pw·ys + 1 − ys), ys smoothed."""
    x = np.full(3, 80.0)
    y = np.array([0.0, 0.3, 1.0])
    _, hess = clgb.objective(pos_weight=5.0, label_smoothing=0.2)(x, FakeData(y))
    ys = y * 0.8 + 0.1
    np.testing.assert_allclose(hess, FLOOR * (5.0 * ys + 1.0 - ys), rtol=1e-15)


def test_empty_weight_array_means_unweighted(rng):
    """DMatrix.get_weight() is an empty array without weights: treated as no weights."""
    y, x, _ = _data(rng)
    a = cxgb.objective()(x, FakeData(y, np.array([], np.float32)))
    b = cxgb.objective()(x, FakeData(y, None))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("from_logits", [True, False], ids=["margins", "probabilities"])
def test_metrics_are_weighted_mean_bce(from_logits, rng):
    """Every metric is cbce.bce(..., reduction="weighted_mean") of what it is handed."""
    y, x, w = _data(rng)
    pred = x if from_logits else 1.0 / (1.0 + np.exp(-x))
    want = cbce.bce(y, pred, from_logits=from_logits, sample_weight=w, reduction="weighted_mean")
    assert cxgb.metric(from_logits=from_logits)(pred, FakeData(y, w)) == ("cbce_logloss", want)
    assert cxgb.sklearn_metric(from_logits=from_logits)(y, pred, sample_weight=w) == want
    assert clgb.metric(from_logits=from_logits)(pred, FakeData(y, w)) == ("cbce_logloss", want, False)
    assert clgb.sklearn_metric(from_logits=from_logits)(y, pred, w) == ("cbce_logloss", want, False)


def test_sklearn_metric_name_is_its_dunder_name():
    """XGBClassifier names a callable eval_metric by __name__."""
    assert cxgb.sklearn_metric(name="bce").__name__ == "bce"


@pytest.mark.parametrize("factory", [cxgb.objective, cxgb.sklearn_objective, cxgb.metric,
                                     cxgb.sklearn_metric, clgb.objective, clgb.sklearn_objective,
                                     clgb.metric, clgb.sklearn_metric],
                         ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_callables_pickle_and_print_their_options(factory):
    """Callables survive pickle (models holding them can be saved) and repr as their call."""
    obj = factory(label_smoothing=0.1)
    assert repr(obj).startswith(f"{factory.__module__}.{factory.__name__}(")
    assert "label_smoothing=0.1" in repr(obj)
    assert repr(pickle.loads(pickle.dumps(obj))) == repr(obj)


def test_options_are_checked_at_construction():
    """Bad options raise when the objective or metric is made, not mid-training."""
    with pytest.raises(ValueError, match="hess_floor"):
        cxgb.objective(hess_floor=-1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        clgb.objective(label_smoothing=2.0)
    with pytest.raises(ValueError, match="pos_weight"):
        clgb.objective(pos_weight=float("nan"))
    with pytest.raises(ValueError, match="eps applies to probabilities only"):
        cxgb.metric(eps=1e-7)
    with pytest.raises(TypeError, match="from_logits"):
        clgb.metric(from_logits="yes")


def test_label_count_must_match_predictions(rng):
    """Multi-output predictions are not supported: a clear error, not a broadcast."""
    y, x, _ = _data(rng)
    with pytest.raises(ValueError, match="same number of elements"):
        cxgb.objective()(np.tile(x, 2), FakeData(y))
