"""Parity with scikit-learn: log_loss and HalfBinomialLoss (issue #2, "Tests")."""
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
