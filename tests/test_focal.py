"""Focal BCE, gamma and alpha on every bce function (docs/focal-multiclass.md).

Accuracy contract: loss, grad and hess within (4 + gamma) ulp of the size of their terms (exact
values and yardsticks from tests/_mpmath_family.py). q^gamma is exp(gamma*log q), and log q's
rounding error of ~1 ulp of |log q| is multiplied by gamma: that is the gamma in the bound, and
what the measured errors show (about 2 ulp up to gamma = 2, 10.6 ulp at gamma = 10). One
exception, as an absolute floor: where exp(-|x|) is subnormal (|x| > 708) the hessian multiplies
it by CE ~ |x|, so there it is off by up to (1 + gamma)^2 * CE * 2^-1074 (below 1e-319).
"""
import math

import numpy as np
import pytest
from mpmath import mp, mpf

import cbce
from _mpmath_family import (ALPHAS, DPS, FOCAL_LABELS, FOCAL_LOGITS, FOCAL_POS_WEIGHTS, GAMMAS,
                            focal_logit_row, focal_prob_row)
from _mpmath_table import PROBS
from _reference import GRAD_DENOM_FLOOR, sigmoid, softplus

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
# gamma = 0 without alpha is plain BCE (tests/test_extreme_values.py): left out.
FOCAL_PARAMS = [pytest.param(g, a, id=f"gamma={g:g}-alpha={a}") for g in GAMMAS for a in ALPHAS
                if g != 0.0 or a is not None]
LABEL_PARAMS = [pytest.param(y, id=f"y={y:g}") for y in FOCAL_LABELS]
PW_PARAMS = [pytest.param(pw, id=f"pw={pw:g}") for pw in FOCAL_POS_WEIGHTS]
SUBNORMAL_EXP = 708.0  # exp(-|x|) < 2^-1022 beyond


def _table_values(values, dtype):
    largest = float(np.finfo(dtype).max)
    return np.unique(np.array([v for v in values if abs(v) <= largest], dtype=dtype))


def _over(got, exact, yardstick, dtype, ulps, floor=None):
    """Rows (i, got, exact, error in ulps of the yardstick) over `ulps` (+ an absolute floor)."""
    bad = []
    with mp.workdps(DPS):
        for i, (g, e, ref) in enumerate(zip(got.tolist(), exact, yardstick)):
            spacing = float(np.spacing(np.abs(dtype(float(ref)))))
            allowed = ulps * spacing + (0.0 if floor is None else floor[i])
            err = abs(mpf(g) - e) if np.isfinite(g) else mpf("inf")
            if not err <= allowed:
                bad.append((i, g, float(e), float(err / spacing)))
    return bad


def _report(x, bad):
    return "\n".join(f"x={x[i]!r}: got {g!r}, exact {e!r}, error {u:.3g} ulp" for i, g, e, u in bad)


LOGIT_SOURCES = {
    "bce-loss": ("loss", lambda y, x, **o: cbce.bce(y, x, from_logits=True, **o)),
    "bce_loss_and_grad-loss": ("loss", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, from_logits=True, **o)[0]),
    "bce_grad-grad": ("grad", lambda y, x, **o: cbce.bce_grad(y, x, from_logits=True, **o)),
    "bce_loss_and_grad-grad": ("grad", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, from_logits=True, **o)[1]),
    "bce_grad_hess-grad": ("grad", lambda y, x, **o: cbce.bce_grad_hess(y, x, **o)[0]),
    "bce_grad_hess-hess": ("hess", lambda y, x, **o: cbce.bce_grad_hess(y, x, **o)[1]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", PW_PARAMS)
@pytest.mark.parametrize("y", LABEL_PARAMS)
@pytest.mark.parametrize(("gamma", "alpha"), FOCAL_PARAMS)
@pytest.mark.parametrize("source", list(LOGIT_SOURCES))
def test_focal_logits_accurate(source, gamma, alpha, y, pw, dtype):
    """From logits, focal loss, grad and hess are within (4 + gamma) ulp of mpmath's (terms' size)."""
    quantity, func = LOGIT_SOURCES[source]
    x = _table_values(FOCAL_LOGITS, dtype)
    got = func(np.full_like(x, y), x, pos_weight=pw, gamma=gamma, alpha=alpha, reduction="none")
    assert got.dtype == dtype and got.shape == x.shape
    rows = [focal_logit_row(float(xi), y, pw, gamma, alpha) for xi in x]
    col = {"loss": 0, "grad": 1, "hess": 3}[quantity]
    exact = [r[col] for r in rows]
    yardstick = [r[{"loss": 0, "grad": 2, "hess": 4}[quantity]] for r in rows]
    floor = None
    if quantity == "hess" and dtype is np.float64:
        floor = [((1 + gamma) ** 2 * (pw + 1) * (abs(float(xi)) + 1) * 2.0**-1074
                  if abs(float(xi)) > SUBNORMAL_EXP else 0.0) for xi in x]
    bad = _over(got, exact, yardstick, dtype, 4 + gamma, floor)
    assert not bad, f"{quantity} over {4 + gamma} ulp:\n" + _report(x, bad)


PROB_SOURCES = {
    "bce-loss": ("loss", lambda y, x, **o: cbce.bce(y, x, **o)),
    "bce_loss_and_grad-loss": ("loss", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, **o)[0]),
    "bce_grad-grad": ("grad", lambda y, x, **o: cbce.bce_grad(y, x, **o)),
    "bce_loss_and_grad-grad": ("grad", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, **o)[1]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("y", LABEL_PARAMS)
@pytest.mark.parametrize(("gamma", "alpha"), FOCAL_PARAMS)
@pytest.mark.parametrize("source", list(PROB_SOURCES))
def test_focal_probabilities_accurate(source, gamma, alpha, y, dtype):
    """From probabilities (0, 1, denormals, the -100 clamp included), focal loss within
    (4 + gamma) ulp of mpmath, grad within (8 + gamma) ulp of its terms (the plain probability
    gradient's 8, tests/test_extreme_values.py)."""
    quantity, func = PROB_SOURCES[source]
    x = _table_values(PROBS, dtype)
    got = func(np.full_like(x, y), x, pos_weight=3.5, gamma=gamma, alpha=alpha, reduction="none")
    rows = [focal_prob_row(float(xi), y, 3.5, gamma, alpha, GRAD_DENOM_FLOOR) for xi in x]
    if quantity == "loss":
        bad = _over(got, [r[0] for r in rows], [r[0] for r in rows], dtype, 4 + gamma)
    else:
        bad = _over(got, [r[1] for r in rows], [r[2] for r in rows], dtype, 8 + gamma)
    assert not bad, f"{quantity}:\n" + _report(x, bad)


@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.9, 2.0])
def test_gradient_and_hessian_finite_at_saturated_logits_for_small_gamma(gamma):
    """0 < gamma < 1 at saturated logits: finite grad and hess (autograd of (1-p_t)**gamma is NaN)."""
    x = np.array([-1e300, -1e4, -800.0, -50.0, -20.0, 20.0, 50.0, 800.0, 1e4, 1e300])
    for y in (0.0, 1.0):
        yy = np.full_like(x, y)
        loss, grad = cbce.bce_loss_and_grad(yy, x, from_logits=True, gamma=gamma, reduction="none")
        g2, hess = cbce.bce_grad_hess(yy, x, gamma=gamma, reduction="none")
        for name, a in (("loss", loss), ("grad", grad), ("grad_hess grad", g2), ("hess", hess)):
            assert np.all(np.isfinite(a)), (name, y, a)


def test_torch_autograd_of_the_power_is_nan_where_cbce_is_finite():
    """The NaN that motivates Note F: autograd through (1 - p_t)**0.5 at a confident correct logit."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor([60.0], dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(xt)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.ones(1, dtype=torch.float64),
                                                                reduction="none") * (1 - p) ** 0.5
    (g,) = torch.autograd.grad(loss.sum(), xt)
    assert not np.isfinite(g.item())
    assert np.isfinite(cbce.bce_grad([1.0], [60.0], from_logits=True, gamma=0.5))


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_infinite_logits_give_the_limits(gamma):
    """x = +-inf: loss 0 on the right side, inf on the wrong side; grad the limits a_t*(+-1, 0)."""
    x = np.array([np.inf, -np.inf, np.inf, -np.inf])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=gamma, alpha=0.25,
                                        reduction="none")
    np.testing.assert_array_equal(loss, [0.0, 0.0, np.inf, np.inf])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.75, -0.25])
    _, hess = cbce.bce_grad_hess(y, x, gamma=gamma, alpha=0.25, reduction="none")
    np.testing.assert_array_equal(hess, [0.0, 0.0, 0.0, 0.0])


def test_nan_logits_propagate():
    """A NaN logit gives NaN loss, grad and hess for its element only."""
    x = np.array([0.5, np.nan, -2.0])
    y = np.array([1.0, 0.0, 0.25])
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, reduction="none")
    g2, hess = cbce.bce_grad_hess(y, x, gamma=2.0, reduction="none")
    for a in (loss, grad, g2, hess):
        assert np.isnan(a[1]) and np.all(np.isfinite(a[[0, 2]])), a


# ---------------------------------------------------------------------------------------------
# Definitions: the plain path, alpha alone, the formula.

@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
def test_gamma_0_without_alpha_is_plain_bce_bitwise(from_logits, rng):
    """gamma=0, alpha=None (explicitly) returns exactly what the call without them returns."""
    x = rng.normal(0, 3, 5000) if from_logits else rng.uniform(0, 1, 5000)
    y = rng.uniform(0, 1, 5000)
    for reduction in ("none", "mean"):
        a = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, reduction=reduction)
        b = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, reduction=reduction,
                                   gamma=0.0, alpha=None)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_alpha_alone_weights_bce_by_alpha_t(rng):
    """gamma=0 with alpha: alpha_t * BCE, alpha_t = alpha*y + (1-alpha)*(1-y)."""
    x = rng.normal(0, 3, 1000)
    y = rng.uniform(0, 1, 1000)
    at = 0.3 * y + 0.7 * (1 - y)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, alpha=0.3, reduction="none")
    plain, pgrad = cbce.bce_loss_and_grad(y, x, from_logits=True, reduction="none")
    np.testing.assert_allclose(loss, at * plain, rtol=4e-16 * 4, atol=0)
    terms = at * (y * sigmoid(-x) + (1 - y) * sigmoid(x))
    assert np.all(np.abs(grad - at * pgrad) <= 8e-16 * terms)


def test_label_smoothing_applies_first(rng):
    """Label smoothing changes y before p_t and alpha_t are formed (Keras' order)."""
    x = rng.normal(0, 3, 100)
    y = (rng.uniform(0, 1, 100) < 0.5).astype(float)
    ys = y * 0.9 + 0.05
    a = cbce.bce(y, x, from_logits=True, gamma=2.0, alpha=0.25, label_smoothing=0.1, reduction="none")
    b = cbce.bce(ys, x, from_logits=True, gamma=2.0, alpha=0.25, reduction="none")
    np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
def test_reductions_and_weights_scale_like_plain_bce(reduction, rng):
    """sample_weight multiplies, reductions divide by N or sum(w), exactly as for plain BCE."""
    x = rng.normal(0, 3, 3000)
    y = rng.uniform(0, 1, 3000)
    w = rng.uniform(0.5, 2, 3000)
    per = cbce.bce(y, x, from_logits=True, gamma=1.5, alpha=0.6, sample_weight=w, reduction="none")
    got = cbce.bce(y, x, from_logits=True, gamma=1.5, alpha=0.6, sample_weight=w, reduction=reduction)
    total = math.fsum(per)
    expected = {"sum": total, "mean": total / x.size, "weighted_mean": total / math.fsum(w)}[reduction]
    assert got == pytest.approx(expected, rel=1e-14)
    g_none = cbce.bce_grad(y, x, from_logits=True, gamma=1.5, alpha=0.6, sample_weight=w, reduction="none")
    g = cbce.bce_grad(y, x, from_logits=True, gamma=1.5, alpha=0.6, sample_weight=w, reduction=reduction)
    scale = {"sum": 1.0, "mean": 1.0 / x.size, "weighted_mean": 1.0 / math.fsum(w)}[reduction]
    np.testing.assert_allclose(g, g_none * scale, rtol=1e-15)


@pytest.mark.parametrize("n_threads", [1, 2, 3, None])
def test_reduced_focal_loss_bitwise_identical_for_every_n_threads(n_threads):
    """Focal reductions use the same blocks: bitwise the same for every n_threads."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 4, 300_001)
    y = (rng.uniform(0, 1, x.size) < 0.1).astype(float)
    ref_loss, ref_grad = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, alpha=0.25, n_threads=1)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, alpha=0.25, n_threads=n_threads)
    assert loss.hex() == ref_loss.hex()
    np.testing.assert_array_equal(grad, ref_grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_view_equals_contiguous_copy(dtype, rng):
    """A strided view gives the same focal loss and gradient as its contiguous copy, bit for bit."""
    x = rng.normal(0, 4, 100_000).astype(dtype)[::2]
    y = (rng.uniform(0, 1, 100_000) < 0.3).astype(dtype)[::2]
    a = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, alpha=0.25)
    b = cbce.bce_loss_and_grad(np.ascontiguousarray(y), np.ascontiguousarray(x), from_logits=True,
                               gamma=2.0, alpha=0.25)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_in_place_focal_gradient(rng):
    """out=y_pred works for focal too: x overwritten with the out-of-place gradient."""
    x = rng.normal(0, 3, 50_000)
    y = rng.uniform(0, 1, x.size)
    expected = cbce.bce_grad(y, x.copy(), from_logits=True, gamma=2.0)
    got = cbce.bce_grad(y, x, from_logits=True, gamma=2.0, out=x)
    assert got is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_float32_matches_float64_reference(dtype, rng):
    """float32 focal results are the float64 math rounded once: within 2 float32 ulp-ish."""
    x = rng.normal(0, 4, 2000).astype(dtype)
    y = rng.uniform(0, 1, 2000).astype(dtype)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, gamma=2.0, alpha=0.25, reduction="none")
    l64, g64 = cbce.bce_loss_and_grad(y.astype(np.float64), x.astype(np.float64), from_logits=True,
                                      gamma=2.0, alpha=0.25, reduction="none")
    assert loss.dtype == dtype and grad.dtype == dtype
    np.testing.assert_array_equal(loss, l64.astype(dtype))
    np.testing.assert_array_equal(grad, g64.astype(dtype))


# ---------------------------------------------------------------------------------------------
# Finite differences (central, float64, ordinary values; bound as in test_derivatives.py, with the
# focal loss's third derivative bounded numerically on the interval instead of in closed form).

N = 7
EPS = np.finfo(np.float64).eps


def _numeric_m3(f, x, h):
    """max |f'''| on [x - 2h, x + 2h] from a coarse, much wider stencil (a generous estimate)."""
    k = 1e-2
    return abs(f(x + 2 * k) - 2 * f(x + k) + 2 * f(x - k) - f(x - 2 * k)) / (2 * k**3) + 1.0


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("kind", ["logits", "probabilities"])
def test_focal_grad_matches_finite_differences(kind, gamma, rng):
    """bce_grad with gamma/alpha is the derivative of the returned focal loss."""
    x = rng.uniform(-4, 4, N) if kind == "logits" else rng.uniform(0.05, 0.95, N)
    y = rng.uniform(0, 1, N)
    y[:2] = [0.0, 1.0]
    opts = dict(from_logits=kind == "logits", gamma=gamma, alpha=0.3, pos_weight=2.0,
                sample_weight=rng.uniform(0.5, 2, N), reduction="sum")
    grad = cbce.bce_grad(y, x, **opts)
    per = cbce.bce(y, x, **{**opts, "reduction": "none"})
    delta = (4 + gamma + N) * EPS * math.fsum(np.abs(per))
    for i in range(N):
        h = 1e-6 * max(1.0, abs(x[i]))

        def f(v, i=i):
            z = x.copy()
            z[i] = v
            return cbce.bce(y, z, **{**opts, "reduction": "none"})[i]
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd = (cbce.bce(y, xp, **opts) - cbce.bce(y, xm, **opts)) / (xp[i] - xm[i])
        bound = h**2 / 6 * _numeric_m3(f, x[i], h) + delta / h + 16 * EPS * abs(grad[i])
        assert abs(fd - grad[i]) <= 2 * bound, (i, x[i], y[i], grad[i], fd, bound)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.7])
def test_focal_hess_matches_finite_differences_of_grad(gamma, rng):
    """bce_grad_hess's hess with gamma/alpha is the derivative of its grad."""
    x = rng.uniform(-4, 4, N)
    y = rng.uniform(0, 1, N)
    y[:2] = [0.0, 1.0]
    opts = dict(gamma=gamma, alpha=0.3, pos_weight=2.0, reduction="none")
    grad, hess = cbce.bce_grad_hess(y, x, **opts)
    for i in range(N):
        h = 1e-6 * max(1.0, abs(x[i]))

        def g(v, i=i):
            z = x.copy()
            z[i] = v
            return cbce.bce_grad_hess(y, z, **opts)[0][i]
        fd = (g(x[i] + h) - g(x[i] - h)) / (2 * h)
        bound = h**2 / 6 * _numeric_m3(g, x[i], h) + 8 * EPS * (abs(grad[i]) + 1) / h + 16 * EPS * abs(hess[i])
        assert abs(fd - hess[i]) <= 2 * bound, (i, x[i], y[i], hess[i], fd, bound)


# ---------------------------------------------------------------------------------------------
# PyTorch: torchvision's sigmoid_focal_loss written in torch ops (torchvision is not required).

def _torchvision_sigmoid_focal_loss(torch, inputs, targets, alpha, gamma, pos_weight=None):
    """torchvision.ops.sigmoid_focal_loss (torchvision/ops/focal_loss.py, reduction "none"),
    line for line; pos_weight passed to its BCE (cbce's CE with pos_weight)."""
    F = torch.nn.functional
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none", pos_weight=pos_weight)
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


def _focal_probs_torch(torch, p, targets, alpha, gamma):
    """The same formula on probabilities with F.binary_cross_entropy (Keras' from_logits=False)."""
    ce_loss = torch.nn.functional.binary_cross_entropy(p, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss


@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, 0.25), (0.5, -1.0), (1.0, 0.75), (3.7, 0.5)],
                         ids=["gamma=2-alpha=0.25", "gamma=0.5-no-alpha", "gamma=1-alpha=0.75",
                              "gamma=3.7-alpha=0.5"])
@pytest.mark.parametrize("pos_weight", [None, 2.5], ids=["no-pos_weight", "pos_weight=2.5"])
def test_logits_match_torchvision_formula_and_autograd(gamma, alpha, pos_weight, rng):
    """Loss, autograd gradient and autograd hessian diagonal equal torchvision's sigmoid_focal_loss."""
    torch = pytest.importorskip("torch")
    x = rng.normal(0, 3, 400)
    y = rng.uniform(0, 1, 400)
    y[::3], y[1::3] = 0, 1
    xt = torch.tensor(x, requires_grad=True)
    pw_t = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    t_loss = _torchvision_sigmoid_focal_loss(torch, xt, torch.tensor(y), alpha, gamma, pw_t)
    (t_grad,) = torch.autograd.grad(t_loss.sum(), xt, create_graph=True)
    (t_hess,) = torch.autograd.grad(t_grad.sum(), xt)  # element-wise loss: the diagonal
    opts = dict(gamma=gamma, alpha=None if alpha < 0 else alpha, pos_weight=pos_weight, reduction="none")
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, **opts)
    _, hess = cbce.bce_grad_hess(y, x, **opts)
    # torch forms 1 - p and 1 - p_t, which lose eps/min(p, 1-p) relative (p = sigma(x); |x| < 12
    # here, so at most ~1e-11), and its autograd repeats that in every derivative: the tolerance.
    tol = 16 * (1 + gamma) ** 2 * EPS / np.minimum(sigmoid(x), sigmoid(-x))
    for name, ours, theirs in (("loss", loss, t_loss), ("grad", grad, t_grad), ("hess", hess, t_hess)):
        theirs = theirs.detach().numpy()
        ok = np.abs(ours - theirs) <= tol * (np.abs(ours) + 1e-3 * np.abs(ours).max())
        assert np.all(ok), (name, x[~ok], ours[~ok], theirs[~ok])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_probabilities_match_torch_formula_and_autograd(dtype, reduction, rng):
    """From probabilities: loss and gradient equal the formula on F.binary_cross_entropy."""
    torch = pytest.importorskip("torch")
    p = rng.uniform(0.01, 0.99, 500).astype(dtype)
    y = (rng.uniform(0, 1, 500) < 0.4).astype(dtype)
    pt = torch.tensor(p, requires_grad=True)
    per = _focal_probs_torch(torch, pt, torch.tensor(y), 0.25, 2.0)
    t_loss = per.sum() if reduction == "sum" else per.mean()
    (t_grad,) = torch.autograd.grad(t_loss, pt)
    loss, grad = cbce.bce_loss_and_grad(y, p, gamma=2.0, alpha=0.25, reduction=reduction)
    rtol = 1e-12 if dtype is np.float64 else 1e-5
    assert loss == pytest.approx(float(t_loss.detach()), rel=rtol)
    np.testing.assert_allclose(grad, t_grad.numpy(), rtol=rtol, atol=rtol * np.abs(grad).max())


def test_mpmath_model_agrees_with_plain_numpy_formula():
    """The focal mpmath model reduces to the NumPy formula on ordinary values (checks the model)."""
    for x in (-3.0, -0.5, 0.0, 1.5, 4.0):
        for y in (0.0, 1.0, 0.3):
            s = sigmoid(np.array(x))
            q = y * (1 - s) + (1 - y) * s
            ce = (1 - y) * softplus(np.array(x)) + y * softplus(np.array(-x))
            exact = float(focal_logit_row(x, y, 1.0, 2.0, 0.25)[0])
            assert exact == pytest.approx(float((0.25 * y + 0.75 * (1 - y)) * q**2 * ce), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad options

FUNCTIONS = {
    "bce": lambda **k: cbce.bce([0.0, 1.0], [0.2, -1.0], from_logits=True, **k),
    "bce_grad": lambda **k: cbce.bce_grad([0.0, 1.0], [0.2, -1.0], from_logits=True, **k),
    "bce_loss_and_grad": lambda **k: cbce.bce_loss_and_grad([0.0, 1.0], [0.2, -1.0], from_logits=True, **k),
    "bce_grad_hess": lambda **k: cbce.bce_grad_hess([0.0, 1.0], [0.2, -1.0], **k),
}


@pytest.mark.parametrize("func", list(FUNCTIONS))
@pytest.mark.parametrize("gamma", [-0.5, np.nan, np.inf, -np.inf], ids=["-0.5", "nan", "inf", "-inf"])
def test_bad_gamma_raises_value_error(func, gamma):
    """gamma negative, NaN or infinite raises ValueError naming gamma."""
    with pytest.raises(ValueError, match="gamma"):
        FUNCTIONS[func](gamma=gamma)


@pytest.mark.parametrize("func", list(FUNCTIONS))
@pytest.mark.parametrize("gamma", ["2", None, True, 1j], ids=["'2'", "None", "True", "1j"])
def test_non_real_gamma_raises_type_error(func, gamma):
    """gamma that is not a real number (str, None, bool, complex) raises TypeError naming gamma."""
    with pytest.raises(TypeError, match="gamma"):
        FUNCTIONS[func](gamma=gamma)


@pytest.mark.parametrize("func", list(FUNCTIONS))
@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan], ids=["-0.1", "1.5", "nan"])
def test_alpha_out_of_range_raises_value_error(func, alpha):
    """alpha outside [0, 1] or NaN raises ValueError naming alpha."""
    with pytest.raises(ValueError, match="alpha"):
        FUNCTIONS[func](alpha=alpha, gamma=2.0)


@pytest.mark.parametrize("func", list(FUNCTIONS))
@pytest.mark.parametrize("alpha", ["0.25", True, [0.25]], ids=["'0.25'", "True", "list"])
def test_non_real_alpha_raises_type_error(func, alpha):
    """alpha that is not None or a real number raises TypeError naming alpha."""
    with pytest.raises(TypeError, match="alpha"):
        FUNCTIONS[func](alpha=alpha)


def test_range_errors_unchanged_with_focal():
    """y_true out of range still raises ValueError with the value and index under focal options."""
    with pytest.raises(ValueError, match=r"y_true.*1\.5.*index 1"):
        cbce.bce([0.0, 1.5], [0.1, 0.2], from_logits=True, gamma=2.0, alpha=0.25)
    with pytest.raises(ValueError, match=r"y_pred.*index 0"):
        cbce.bce([0.0, 1.0], [1.1, 0.2], gamma=2.0)
