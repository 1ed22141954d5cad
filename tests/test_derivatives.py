"""Gradient and hessian against central finite differences of the returned loss.

Central difference with step h_i = 1e-6·max(1, |x_i|) (float64, ordinary values):
    D_i = [F(x + h e_i) - F(x - h e_i)] / (2h)
    |D_i - F'_i| <= h²/6 · max|F'''_i|          (truncation, Taylor remainder)
                  + δ / h                         (rounding: each F value off by at most δ)
where F is the reduced loss (for the hessian: the i-th gradient element). With the per-element
scale c_i (w_i times 1, 1/N or 1/Σw for sum, mean, weighted_mean):
  logits:        l''' = (1-y+pw·y)·σ''(x),  |σ''| <= 1/(6√3) < 0.1;   l'''' = (1-y+pw·y)·σ''',  |σ'''| <= 1/8
  probabilities: |l'''| <= 2·[pw·y/(x-h)³ + (1-y)/(1-x-h)³]
  δ (loss) = (4 + N)·ε·Σ_j c_j|l_j|   (4 ulp per element, plus a sum of N terms)
  δ (grad) = 4·2ε·|c_i|·grad_scale_i  (4 ulp of the gradient's terms; elements are independent)
The derivative under test may itself be off by 4 ulp (of its terms, for the gradient). Everything is doubled for slack.
"""
import math

import numpy as np
import pytest

import cbce
import _reference as ref

EPS = np.finfo(np.float64).eps
N = 7
SLACK = 2.0

OPTIONS = {
    "plain": {},
    "sample_weight": {"sample_weight": True},
    "pos_weight": {"pos_weight": True},
    "label_smoothing": {"label_smoothing": 0.1},
    "all": {"sample_weight": True, "pos_weight": True, "label_smoothing": 0.1},
}
REDUCTIONS = ["sum", "mean", "weighted_mean"]


def _problem(rng, kind, option_id):
    """Ordinary inputs: logits in [-4, 4] or probabilities in [0.05, 0.95], soft labels."""
    spec = OPTIONS[option_id]
    x = rng.uniform(-4, 4, N) if kind == "logits" else rng.uniform(0.05, 0.95, N)
    y = rng.uniform(0, 1, N)
    y[:2] = [0.0, 1.0]
    opts = {"from_logits": kind == "logits"}
    if spec.get("sample_weight"):
        opts["sample_weight"] = rng.uniform(0.5, 2.0, N)
    if spec.get("pos_weight"):
        opts["pos_weight"] = rng.uniform(0.5, 4.0, N)
    if "label_smoothing" in spec:
        opts["label_smoothing"] = spec["label_smoothing"]
    return y, x, opts


def _steps(x):
    return 1e-6 * np.maximum(1.0, np.abs(x))


def _central_difference(func, x, i, h):
    """(func(x + h e_i) - func(x - h e_i)) / (actual step), and the actual half-step."""
    xp, xm = x.copy(), x.copy()
    xp[i] += h
    xm[i] -= h
    return (func(xp) - func(xm)) / (xp[i] - xm[i]), (xp[i] - xm[i]) / 2


def _effective(y, opts, n):
    ls = opts.get("label_smoothing", 0.0)
    y_eff = y * (1 - ls) + 0.5 * ls
    w = np.broadcast_to(opts.get("sample_weight", 1.0), n)
    pw = np.broadcast_to(opts.get("pos_weight", 1.0), n)
    return y_eff, w, pw


def _reduction_scale(reduction, w):
    return {"sum": 1.0, "mean": 1.0 / w.size, "weighted_mean": 1.0 / math.fsum(w)}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option_id", list(OPTIONS))
@pytest.mark.parametrize("kind", ["logits", "probabilities"])
def test_grad_matches_finite_differences(kind, option_id, reduction, rng):
    """bce_grad is the derivative of the returned reduced loss, within the central-difference bound."""
    y, x, opts = _problem(rng, kind, option_id)
    grad = cbce.bce_grad(y, x, reduction=reduction, **opts)
    y_eff, w, pw = _effective(y, opts, N)
    c = w * _reduction_scale(reduction, w)
    per_element = ref.elementwise(y, x, **opts)["loss"]
    delta = (4 + N) * EPS * math.fsum(np.abs(per_element * _reduction_scale(reduction, w)))
    scale = ref.grad_scale(y, x, reduction=reduction, **opts)
    loss = lambda z: cbce.bce(y, z, reduction=reduction, **opts)  # noqa: E731
    for i in range(N):
        fd, h = _central_difference(loss, x, i, _steps(x)[i])
        if kind == "logits":
            m3 = 0.1 * (1 - y_eff[i] + pw[i] * y_eff[i])
        else:
            m3 = 2 * (pw[i] * y_eff[i] / (x[i] - h) ** 3 + (1 - y_eff[i]) / (1 - x[i] - h) ** 3)
        bound = h**2 / 6 * m3 * abs(c[i]) + delta / h + 8 * EPS * scale[i]
        assert abs(fd - grad[i]) <= SLACK * bound, (
            f"element {i}: x={x[i]!r} y={y[i]!r} grad={grad[i]!r} finite difference={fd!r} "
            f"bound={SLACK * bound:.3g}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option_id", list(OPTIONS))
def test_hess_matches_finite_differences_of_grad(option_id, reduction, rng):
    """bce_grad_hess's hess is the derivative of its grad, within the central-difference bound."""
    y, x, opts = _problem(rng, "logits", option_id)
    del opts["from_logits"]
    grad, hess = cbce.bce_grad_hess(y, x, reduction=reduction, **opts)
    y_eff, w, pw = _effective(y, opts, N)
    c = w * _reduction_scale(reduction, w)
    scale = ref.grad_scale(y, x, from_logits=True, reduction=reduction, **opts)
    for i in range(N):
        grad_i = lambda z: cbce.bce_grad_hess(y, z, reduction=reduction, **opts)[0][i]  # noqa: E731,B023
        fd, h = _central_difference(grad_i, x, i, _steps(x)[i])
        m4 = 0.125 * (1 - y_eff[i] + pw[i] * y_eff[i])
        delta = 8 * EPS * scale[i]
        bound = h**2 / 6 * m4 * abs(c[i]) + delta / h + 8 * EPS * abs(hess[i])
        assert abs(fd - hess[i]) <= SLACK * bound, (
            f"element {i}: x={x[i]!r} y={y[i]!r} hess={hess[i]!r} finite difference={fd!r} "
            f"bound={SLACK * bound:.3g}")
