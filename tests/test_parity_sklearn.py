"""Parity with scikit-learn: log_loss and HalfBinomialLoss (docs/guide/sklearn.md), and
scikit-learn's own log_loss tests run against cbce.metrics.log_loss."""
import inspect
import itertools
import warnings

import numpy as np
import pytest

import cbce

sklearn = pytest.importorskip("sklearn", minversion="1.3")  # 1.3+: log_loss clips at finfo(dtype).eps
from sklearn.metrics import log_loss  # noqa: E402

EPS64 = np.finfo(np.float64).eps


def _binary_problem(rng, n=500):
    y = (rng.uniform(0, 1, n) < 0.3).astype(np.float64)
    p = rng.uniform(0, 1, n)
    p[:6] = [0.0, 1.0, 1e-300, 1 - 1e-17, 1e-20, 0.5]  # clipped by both
    y[:6] = [1, 0, 1, 0, 0, 1]
    return y, p


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_weighted_mean_matches_sklearn_log_loss(weighted, rng):
    """bce(eps=finfo.eps, reduction="weighted_mean") equals sklearn.metrics.log_loss."""
    y, p = _binary_problem(rng)
    w = rng.uniform(0.1, 3.0, y.size) if weighted else None
    expected = log_loss(y, p, sample_weight=w, labels=[0, 1])
    got = cbce.bce(y, p, eps=EPS64, sample_weight=w, reduction="weighted_mean")
    assert got == pytest.approx(expected, rel=1e-13)


def test_sum_matches_sklearn_log_loss_unnormalized(rng):
    """bce(eps=finfo.eps, reduction="sum") with weights equals log_loss(normalize=False)."""
    y, p = _binary_problem(rng)
    w = rng.uniform(0.1, 3.0, y.size)
    expected = log_loss(y, p, sample_weight=w, labels=[0, 1], normalize=False)
    got = cbce.bce(y, p, eps=EPS64, sample_weight=w, reduction="sum")
    assert got == pytest.approx(expected, rel=1e-13)


def _half_binomial():
    return pytest.importorskip("sklearn._loss.loss").HalfBinomialLoss()


def _logit_problem(rng, n=1000):
    x = rng.normal(0, 4, n)
    y = rng.uniform(0, 1, n)
    y[::3], y[1::3] = 0, 1
    return np.ascontiguousarray(y), np.ascontiguousarray(x), rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_loss_matches_half_binomial_loss(weighted, rng):
    """Per-element logit loss equals HalfBinomialLoss().loss on ordinary values."""
    y, x, w = _logit_problem(rng)
    w = w if weighted else None
    expected = _half_binomial().loss(y_true=y, raw_prediction=x, sample_weight=w)
    got = cbce.bce(y, x, from_logits=True, sample_weight=w, reduction="none")
    # scikit-learn evaluates log1pexp(x) - y·x, which loses up to ~2ε·|x| absolute to cancellation.
    tol = 1e-13 * np.abs(expected) + 4 * EPS64 * (np.abs(x) + 1) * (1 if w is None else w)
    assert np.all(np.abs(got - expected) <= tol)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_gradient_matches_half_binomial_loss(weighted, rng):
    """Per-element logit gradient equals HalfBinomialLoss().gradient, to 1e-13 of its terms."""
    y, x, w = _logit_problem(rng)
    w = w if weighted else None
    expected = _half_binomial().gradient(y_true=y, raw_prediction=x, sample_weight=w)
    got = cbce.bce_grad(y, x, from_logits=True, sample_weight=w, reduction="none")
    terms = (1 if w is None else w) * ((1 - y) / (1 + np.exp(-x)) + y / (1 + np.exp(x)))
    assert np.all(np.abs(got - expected) <= 1e-13 * terms)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_gradient_hessian_matches_half_binomial_loss(weighted, rng):
    """bce_grad_hess(reduction="none") equals HalfBinomialLoss().gradient_hessian."""
    y, x, w = _logit_problem(rng)
    w = w if weighted else None
    g_expected, h_expected = _half_binomial().gradient_hessian(y_true=y, raw_prediction=x, sample_weight=w)
    grad, hess = cbce.bce_grad_hess(y, x, sample_weight=w, reduction="none")
    terms = (1 if w is None else w) * ((1 - y) / (1 + np.exp(-x)) + y / (1 + np.exp(x)))
    assert np.all(np.abs(grad - g_expected) <= 1e-13 * terms)
    np.testing.assert_allclose(hess, h_expected, rtol=1e-13, atol=0)


# --- scikit-learn's own tests, with cbce.metrics.log_loss swapped in --------------------------
# cbce.metrics.log_loss's messages and y_pred deprecation are scikit-learn 1.9's; its tests of
# them are only meaningful from that release on.
SKLEARN_WORDING = (1, 9)


def _sklearn_version():
    return tuple(int(p) for p in sklearn.__version__.split(".")[:2] if p.isdigit())


def _sklearn_log_loss_tests():
    """(id, function, kwargs) for every test_log_loss* function in the installed scikit-learn's
    sklearn/metrics/tests/test_classification.py, its parametrize marks expanded."""
    try:
        from sklearn.metrics.tests import test_classification as mod
    except ImportError:  # a scikit-learn installed without its tests
        return []
    cases = []
    for name, fn in sorted(vars(mod).items()):
        if not (name.startswith("test_log_loss") and callable(fn)):
            continue
        axes = []
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize":
                names = [n.strip() for n in mark.args[0].split(",")] \
                    if isinstance(mark.args[0], str) else list(mark.args[0])
                values = [v.values if hasattr(v, "values") else v for v in mark.args[1]]
                values = [v if len(names) > 1 else (v,) for v in values]
                axes.append([dict(zip(names, v)) for v in values])
        for k, combo in enumerate(itertools.product(*axes)):
            kwargs = {key: val for part in combo for key, val in part.items()}
            if set(inspect.signature(fn).parameters) - set(kwargs):
                continue  # needs a fixture of scikit-learn's conftest
            cases.append(pytest.param(fn, kwargs, id=f"{name}-{k}"))
    return cases


@pytest.mark.skipif(_sklearn_version() < SKLEARN_WORDING,
                    reason="cbce pins scikit-learn 1.9's messages and y_pred deprecation")
@pytest.mark.parametrize("fn, kwargs", _sklearn_log_loss_tests() or
                         [pytest.param(None, None, marks=pytest.mark.skip(
                             reason="the installed scikit-learn ships no tests"))])
def test_sklearn_log_loss_tests_pass_with_cbce(fn, kwargs, monkeypatch):
    """scikit-learn's own test_log_loss* functions pass with cbce.metrics.log_loss."""
    import cbce.metrics

    monkeypatch.setattr(inspect.getmodule(fn), "log_loss", cbce.metrics.log_loss)
    with warnings.catch_warnings():
        fn(**kwargs)


BAD_INPUTS = [([0, 1], [0.5, np.nan]), ([0, 1], [0.5, np.inf]), ([0, 1], [0.5, 1.5]),
              ([0, 1], [-0.1, 0.5]), ([0, 1, 2], [[1.5, 0.5, 0.5]] * 3),
              ([1, 1], [0.5, 0.5]), ([0, 1, 2], [[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]]),
              ([0, 1], [0.5, 0.6], {"labels": [0, 1, 2]})]


@pytest.mark.skipif(_sklearn_version() < SKLEARN_WORDING,
                    reason="cbce pins scikit-learn 1.9's messages")
@pytest.mark.parametrize("case", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_error_messages_are_sklearns(case):
    """Each rejected input raises scikit-learn's ValueError with its exact text."""
    from cbce.metrics import log_loss as cbce_log_loss

    y, p, *kw = case
    kw = kw[0] if kw else {}
    with pytest.raises(ValueError) as want:
        log_loss(y, p, **kw)
    with pytest.raises(ValueError) as got:
        cbce_log_loss(y, p, **kw)
    assert str(got.value) == str(want.value)


@pytest.mark.skipif(_sklearn_version() < SKLEARN_WORDING,
                    reason="cbce pins scikit-learn 1.9's messages")
def test_sum_to_one_warning_is_sklearns():
    """Rows not summing to one: scikit-learn's UserWarning text."""
    from cbce.metrics import log_loss as cbce_log_loss

    y, p = [0, 1, 2], [[0.5, 0.5, 0.5], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8]]
    with pytest.warns(UserWarning) as want:
        log_loss(y, p)
    with pytest.warns(UserWarning) as got:
        cbce_log_loss(y, p)
    assert [str(w.message) for w in got] == [str(w.message) for w in want]


def test_y_pred_is_deprecated_with_a_future_warning():
    """y_pred= gives a FutureWarning and y_proba's result; both names raise ValueError."""
    from cbce.metrics import log_loss as cbce_log_loss

    with pytest.warns(FutureWarning, match="y_pred"):
        got = cbce_log_loss([0, 1], y_pred=[0.2, 0.7])
    assert got == cbce_log_loss([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="y_pred"):
        cbce_log_loss([0, 1], y_pred=[0.2, 0.7], y_proba=[0.2, 0.7])
