"""Multi-class softmax cross-entropy (docs/focal-multiclass.md): accuracy against mpmath, the two-class relation
with BCE, parity with PyTorch and scikit-learn, derivatives, determinism, layouts and bad input.

Accuracy contract (few classes, the mpmath table): loss within 4 ulp of the exact value, gradient
within 4 ulp of the size of its terms W*p_c + |a_c| (tests/_mpmath_family.py), for every finite
logit; -inf logits mask a class. A row of C terms adds the rounding of a C-term sum on top.
"""
import math

import numpy as np
import pytest
from mpmath import mp, mpf

import cbce
from _mpmath_family import DPS, SOFTMAX_ROWS, softmax_row
from _mpmath_table import LOGITS
from _reference import sigmoid

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
EPS64 = float(np.finfo(np.float64).eps)
# Rows padded with -inf classes up to this many take the generic path (Note M: <= 16 are
# transposed), with the same exact values.
PAD_TO = {"small-C": None, "generic-C": 20}


def _ulps(got, exact, yardstick, dtype):
    with mp.workdps(DPS):
        spacing = float(np.spacing(np.abs(dtype(float(yardstick)))))
        if not np.isfinite(got):
            return math.inf
        return float(abs(mpf(float(got)) - exact) / spacing)


def _fits(row, dtype):
    return all(abs(v) <= float(np.finfo(dtype).max) or v == -math.inf for v in row)


def _table_cases():
    """(row, target kind, targets, class weights) for every table row: one-hot at the first and
    the last class, a soft target, class weights."""
    cases = []
    for row in SOFTMAX_ROWS:
        C = len(row)
        finite = [c for c in range(C) if row[c] != -math.inf]
        for k in (finite[0], finite[-1]):
            cases.append((row, "index", k, None))
        soft = [0.0] * C
        soft[finite[0]], soft[finite[-1]] = 0.25, 0.75
        cases.append((row, "probs", soft, None))
        cases.append((row, "index", finite[-1], [0.5 + c for c in range(C)]))
    return cases


TABLE = _table_cases()


@pytest.mark.parametrize("path", list(PAD_TO))
@pytest.mark.parametrize("dtype", DTYPES)
def test_accurate_to_4_ulp_against_mpmath(dtype, path):
    """Loss within 4 ulp of mpmath, gradient within 4 ulp of its terms, on the extreme table."""
    bad = []
    for row, kind, target, cw in TABLE:
        if not _fits(row, dtype):
            continue
        x = np.array(row, dtype=dtype)     # the table's values as this dtype receives them
        C = x.size
        t = target if kind == "probs" else [1.0 if c == target else 0.0 for c in range(C)]
        exact_loss, exact_grad, scale = softmax_row([float(v) for v in x], t, cw)
        pad = PAD_TO[path]
        if pad:
            x = np.concatenate([x, np.full(pad - C, -np.inf, dtype)])
            t = list(t) + [0.0] * (pad - C)
            cw = None if cw is None else list(cw) + [1.0] * (pad - C)
        y = np.array(t, dtype=dtype) if kind == "probs" else np.int64(target)
        loss, grad = cbce.cross_entropy_loss_and_grad(
            y, x, class_weight=cw, reduction="sum")
        assert grad.dtype == dtype
        err = _ulps(loss, exact_loss, exact_loss, dtype)
        if err > 4:
            bad.append(f"{row} {kind} {target} cw={cw}: loss {loss!r} vs {float(exact_loss)!r} ({err:.3g} ulp)")
        for c in range(C):
            err = _ulps(grad[c], exact_grad[c], scale[c], dtype)
            if err > 4:
                bad.append(f"{row} {kind} {target} cw={cw}: grad[{c}] {grad[c]!r} vs "
                           f"{float(exact_grad[c])!r} ({err:.3g} ulp of {float(scale[c]):.3g})")
        if pad:
            assert np.all(grad[C:] == 0.0), grad[C:]
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------------------------
# The seed's relation: cross-entropy over [0, x] is BCE of the logit x.

@pytest.mark.parametrize("ls", [0.0, 0.1], ids=["no-smoothing", "label_smoothing=0.1"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_two_class_cross_entropy_is_bce_of_the_logit(dtype, ls):
    """CE([0, x]) == BCE(x) for values and gradients (d/dx; d/d0 is its negative), every extreme
    logit, class indices and probabilities, pos_weight as class_weight [1, pw]."""
    big = float(np.finfo(dtype).max)
    x = np.array([v for v in LOGITS if abs(v) <= big], dtype=dtype)
    z = np.stack([np.zeros_like(x), x], axis=-1)
    eps = float(np.finfo(dtype).eps)
    for label in (0, 1):
        yb = np.full(x.size, float(label), dtype)
        for cw, pw in ((None, None), ([1.0, 2.5], 2.5)):
            bl, bg = cbce.bce_loss_and_grad(yb, x, from_logits=True, pos_weight=pw,
                                            label_smoothing=ls, reduction="none")
            for y in (np.full(x.size, label), np.stack([1.0 - yb, yb], axis=-1)):
                cl, cg = cbce.cross_entropy_loss_and_grad(y, z, class_weight=cw, label_smoothing=ls,
                                                          reduction="none")
                # Both are sums of non-negative terms: loss within a few ulp of the value, gradient
                # within a few ulp of its terms (BCE's yardstick, tests/_reference.grad_scale), and
                # a few subnormal spacings (float32 BCE rounds subnormal intermediates, Note C).
                # Smoothed targets are rounded differently (BCE: 1 - fl(0.95); CE: fl(0.05)):
                # one eps of a target more, times its softplus (<= |x| + 1) for the loss.
                yy = label * (1 - ls) + 0.5 * ls
                x64 = x.astype(np.float64)
                terms = (1 - yy) * sigmoid(x64) + (pw or 1.0) * yy * sigmoid(-x64)
                tiny = 4 * float(np.finfo(dtype).smallest_subnormal)
                target_rounding = 2 * eps * (1 + (pw or 1.0)) if ls else 0.0
                tol = 3 * eps * np.abs(bl) + tiny + target_rounding * (np.abs(x) + 1.0)
                assert np.all(np.abs(cl - bl) <= tol), (label, cw, x, cl, bl)
                tol = 3 * eps * terms + tiny + target_rounding
                assert np.all(np.abs(cg[:, 1] - bg) <= tol), (label, cw, x, cg[:, 1], bg)
                assert np.all(np.abs(cg[:, 0] + bg) <= tol), (label, cw, x, cg[:, 0], bg)


def test_two_class_relation_keeps_tiny_losses():
    """The digits BCE keeps, CE keeps: y=1, x=40 costs 4.248e-18 and its gradient -4.248e-18."""
    loss, grad = cbce.cross_entropy_loss_and_grad(np.array([1]), np.array([[0.0, 40.0]]), reduction="sum")
    assert loss == pytest.approx(4.248354255291589e-18, rel=4 * EPS64)
    assert grad[0, 1] == pytest.approx(-4.248354255291589e-18, rel=4 * EPS64)


# ---------------------------------------------------------------------------------------------
# PyTorch

def _torch_ce(torch, x, y, axis, reduction, **kw):
    F = torch.nn.functional
    xt = torch.tensor(np.moveaxis(x, axis, 1) if x.ndim > 1 else x, requires_grad=True)
    yt = torch.tensor(np.moveaxis(y, axis, 1) if y.shape == x.shape and x.ndim > 1 else y)
    kw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    loss = F.cross_entropy(xt, yt, reduction=reduction, **kw)
    (grad,) = torch.autograd.grad(loss.sum(), xt)
    grad = grad.numpy()
    return loss.detach().numpy(), (np.moveaxis(grad, 1, axis) if x.ndim > 1 else grad)


TORCH_OPTIONS = {
    "plain": {},
    "class_weight": {"class_weight": True},
    "label_smoothing": {"label_smoothing": 0.15},
    "ignore_index": {"ignore_index": 2},
    "all": {"class_weight": True, "label_smoothing": 0.15, "ignore_index": 2},
}


def _torch_kwargs(opts, cw):
    kw = {}
    if opts.get("class_weight"):
        kw["weight"] = cw
    if "label_smoothing" in opts:
        kw["label_smoothing"] = opts["label_smoothing"]
    if "ignore_index" in opts:
        kw["ignore_index"] = opts["ignore_index"]
    return kw


def _cbce_kwargs(opts, cw):
    kw = dict(opts)
    if opts.get("class_weight"):
        kw["class_weight"] = cw
    return kw


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", list(TORCH_OPTIONS))
@pytest.mark.parametrize("C", [7, 40], ids=["C=7", "C=40"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_class_indices_match_torch(dtype, C, option, reduction, rng):
    """Loss and autograd gradient equal F.cross_entropy with class indices (both kernel paths)."""
    torch = pytest.importorskip("torch")
    n = 300
    x = rng.normal(0, 3, (n, C)).astype(dtype)
    y = rng.integers(0, C, n)
    cw = rng.uniform(0.5, 2.0, C).astype(dtype)
    opts = TORCH_OPTIONS[option]
    t_loss, t_grad = _torch_ce(torch, x, y, -1, reduction, **_torch_kwargs(opts, cw))
    loss, grad = cbce.cross_entropy_loss_and_grad(y, x, reduction=reduction, **_cbce_kwargs(opts, cw))
    rtol = 1e-13 if dtype is np.float64 else 2e-6
    np.testing.assert_allclose(loss, t_loss, rtol=rtol, atol=rtol * np.abs(t_loss).max())
    np.testing.assert_allclose(grad, t_grad, rtol=0, atol=rtol * np.abs(t_grad).max())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("C", [5, 33], ids=["C=5", "C=33"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_probabilities_match_torch(dtype, C, reduction, rng):
    """Class-probability targets with class weights and label smoothing equal F.cross_entropy."""
    torch = pytest.importorskip("torch")
    x = rng.normal(0, 3, (200, C)).astype(dtype)
    y = rng.dirichlet(np.ones(C), 200).astype(dtype)
    cw = rng.uniform(0.5, 2.0, C).astype(dtype)
    t_loss, t_grad = _torch_ce(torch, x, y, -1, reduction, weight=cw, label_smoothing=0.2)
    loss, grad = cbce.cross_entropy_loss_and_grad(y, x, class_weight=cw, label_smoothing=0.2,
                                                  reduction=reduction)
    rtol = 1e-13 if dtype is np.float64 else 2e-6
    np.testing.assert_allclose(loss, t_loss, rtol=rtol, atol=rtol * np.abs(t_loss).max())
    np.testing.assert_allclose(grad, t_grad, rtol=0, atol=rtol * np.abs(t_grad).max())


@pytest.mark.parametrize("C", [4, 21], ids=["C=4", "C=21"])
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_segmentation_layout_class_axis_1_matches_torch(kind, C, rng):
    """(N, C, H, W) logits with axis=1, PyTorch's layout: no copy, same values as torch."""
    torch = pytest.importorskip("torch")
    x = rng.normal(0, 2, (3, C, 5, 6))
    y = rng.integers(0, C, (3, 5, 6)) if kind == "indices" else \
        np.moveaxis(rng.dirichlet(np.ones(C), (3, 5, 6)), -1, 1)
    xt = torch.tensor(x, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(xt, torch.tensor(y), label_smoothing=0.1)
    (t_grad,) = torch.autograd.grad(t_loss, xt)
    loss, grad = cbce.cross_entropy_loss_and_grad(y, x, axis=1, label_smoothing=0.1)
    assert loss == pytest.approx(float(t_loss.detach()), rel=1e-13)
    np.testing.assert_allclose(grad, t_grad.numpy(), rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# scikit-learn

def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("C", [3, 30], ids=["C=3", "C=30"])
def test_matches_half_multinomial_loss(C, weighted, rng):
    """Per-sample loss and gradient equal HalfMultinomialLoss (sample weights multiply both)."""
    loss_mod = pytest.importorskip("sklearn._loss.loss")
    x = rng.normal(0, 3, (500, C))
    y = rng.integers(0, C, 500)
    w = rng.uniform(0.2, 3.0, 500) if weighted else None
    hml = loss_mod.HalfMultinomialLoss(n_classes=C)
    e_loss = hml.loss(y_true=y.astype(float), raw_prediction=x, sample_weight=w)
    e_grad = hml.gradient(y_true=y.astype(float), raw_prediction=x, sample_weight=w)
    loss, grad = cbce.cross_entropy_loss_and_grad(y, x, sample_weight=w, reduction="none")
    # sklearn's logsumexp - x_y cancels to ~eps*|x| absolute.
    np.testing.assert_allclose(loss, e_loss, rtol=1e-13, atol=8 * EPS64 * np.abs(x).max())
    # cbce's "none" gradient is that of the per-sample losses: sklearn's, element by element.
    np.testing.assert_allclose(grad, e_grad, rtol=0, atol=4 * EPS64 * (1 if w is None else w.max()))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_weighted_mean_matches_sklearn_log_loss(weighted, rng):
    """reduction="weighted_mean" equals log_loss(y, softmax(logits), sample_weight=w)."""
    metrics = pytest.importorskip("sklearn.metrics")
    x = rng.normal(0, 2, (400, 6))
    y = rng.integers(0, 6, 400)
    w = rng.uniform(0.2, 3.0, 400) if weighted else None
    expected = metrics.log_loss(y, _softmax(x), sample_weight=w, labels=list(range(6)))
    got = cbce.cross_entropy(y, x, sample_weight=w, reduction="weighted_mean")
    assert got == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Derivatives and reductions

@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("option", list(TORCH_OPTIONS) + ["probabilities"])
def test_grad_matches_finite_differences(option, reduction, rng):
    """cross_entropy_grad is the derivative of the returned reduced loss (central differences)."""
    n, C = 6, 5
    x = rng.uniform(-3, 3, (n, C))
    opts = dict(TORCH_OPTIONS.get(option, {}), sample_weight=rng.uniform(0.5, 2.0, n))
    if opts.pop("class_weight", False):
        opts["class_weight"] = rng.uniform(0.5, 2.0, C)
    y = rng.dirichlet(np.ones(C), n) if option == "probabilities" else rng.integers(0, C, n)
    if option in ("ignore_index", "all"):
        y[0] = 2
    grad = cbce.cross_entropy_grad(y, x, reduction=reduction, **opts)
    total = cbce.cross_entropy(y, x, reduction="sum", **opts)
    for i in range(n):
        for c in range(C):
            h = 1e-6
            xp, xm = x.copy(), x.copy()
            xp[i, c] += h
            xm[i, c] -= h
            fd = (cbce.cross_entropy(y, xp, reduction=reduction, **opts)
                  - cbce.cross_entropy(y, xm, reduction=reduction, **opts)) / (xp[i, c] - xm[i, c])
            # |third derivative| of a softmax CE row <= 2*W; rounding: (8 + n*C) eps of the sum.
            scale = abs(grad[i, c]) + 1.0
            bound = h**2 / 6 * 2 * 4 + 2 * (8 + n * C) * EPS64 * abs(total) / h + 8 * EPS64 * scale
            assert abs(fd - grad[i, c]) <= 2 * bound, (i, c, grad[i, c], fd)


def test_reductions_follow_torch_and_weighted_mean(rng):
    """"mean" divides by the kept targets' class weight (PyTorch), "weighted_mean" by
    sum(sample_weight * class_weight[y]) over kept targets, "sum" not at all."""
    x = rng.normal(0, 2, (50, 4))
    y = rng.integers(0, 4, 50)
    y[:5] = -100
    cw = rng.uniform(0.5, 2, 4)
    w = rng.uniform(0.5, 2, 50)
    per = cbce.cross_entropy(y, x, class_weight=cw, sample_weight=w, ignore_index=-100,
                             reduction="none")
    kept = y != -100
    assert np.all(per[~kept] == 0)
    total = math.fsum(per)
    opts = dict(class_weight=cw, sample_weight=w, ignore_index=-100)
    assert cbce.cross_entropy(y, x, reduction="sum", **opts) == pytest.approx(total, rel=1e-14)
    assert cbce.cross_entropy(y, x, reduction="mean", **opts) == pytest.approx(
        total / math.fsum(cw[y[kept]]), rel=1e-14)
    assert cbce.cross_entropy(y, x, reduction="weighted_mean", **opts) == pytest.approx(
        total / math.fsum(w[kept] * cw[y[kept]]), rel=1e-14)
    p = _softmax(x)
    assert cbce.cross_entropy(p, x, sample_weight=w, reduction="mean") == pytest.approx(
        math.fsum(cbce.cross_entropy(p, x, sample_weight=w, reduction="none")) / 50, rel=1e-14)
    assert cbce.cross_entropy(p, x, sample_weight=w, reduction="weighted_mean") == pytest.approx(
        math.fsum(cbce.cross_entropy(p, x, sample_weight=w, reduction="none")) / math.fsum(w), rel=1e-14)


def test_all_ignored_mean_is_nan_and_gradient_zero():
    """Every target ignored: "mean" is NaN (0/0, as PyTorch), "sum" 0, the gradient all zeros."""
    x = np.ones((3, 4))
    y = np.full(3, 7)
    assert math.isnan(cbce.cross_entropy(y, x, ignore_index=7))
    assert cbce.cross_entropy(y, x, ignore_index=7, reduction="sum") == 0.0
    np.testing.assert_array_equal(cbce.cross_entropy_grad(y, x, ignore_index=7, reduction="sum"), 0.0)


def test_empty_input():
    """No samples: mean NaN, sum 0, none an empty array; the gradient is empty."""
    x = np.empty((0, 5))
    y = np.empty(0, dtype=int)
    assert math.isnan(cbce.cross_entropy(y, x))
    assert cbce.cross_entropy(y, x, reduction="sum") == 0.0
    assert cbce.cross_entropy(y, x, reduction="none").shape == (0,)
    assert cbce.cross_entropy_grad(y, x).shape == (0, 5)


@pytest.mark.parametrize("C", [3, 30], ids=["C=3", "C=30"])
def test_minus_inf_masks_a_class_and_nan_or_inf_rows_are_nan(C):
    """-inf is a masked class (p = 0, no loss term); +inf or NaN makes the row NaN."""
    x = np.zeros((4, C))
    x[0, 1] = -np.inf
    x[1, 1] = np.nan
    x[2, 1] = np.inf
    loss, grad = cbce.cross_entropy_loss_and_grad(np.zeros(4, int), x, reduction="none")
    assert loss[0] == pytest.approx(math.log(C - 1), rel=4 * EPS64)
    assert grad[0, 1] == 0.0 and np.all(np.isfinite(grad[0]))
    assert np.isnan(loss[1]) and np.all(np.isnan(grad[1]))
    assert np.isnan(loss[2]) and np.all(np.isnan(grad[2]))
    assert loss[3] == pytest.approx(math.log(C), rel=4 * EPS64)


# ---------------------------------------------------------------------------------------------
# Determinism and layouts

@pytest.mark.parametrize("C", [10, 300], ids=["C=10", "C=300"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_for_every_n_threads(dtype, C):
    """Reduced loss and gradient are bitwise the same for n_threads 1, 2, 3 and the default."""
    rng = np.random.default_rng(9)
    n = 400_000 // C + 7
    x = rng.normal(0, 3, (n, C)).astype(dtype)
    y = rng.integers(0, C, n)
    w = rng.uniform(0.5, 2, n)
    ref = cbce.cross_entropy_loss_and_grad(y, x, sample_weight=w, label_smoothing=0.1,
                                           reduction="weighted_mean", n_threads=1)
    for nt in (2, 3, None):
        loss, grad = cbce.cross_entropy_loss_and_grad(y, x, sample_weight=w, label_smoothing=0.1,
                                                      reduction="weighted_mean", n_threads=nt)
        assert loss.hex() == ref[0].hex(), nt
        np.testing.assert_array_equal(grad, ref[1])


def _layouts(rng, C):
    base = rng.normal(0, 3, (6, 7, C))
    yield "class-axis-1", np.moveaxis(base, -1, 1).copy(), 1
    yield "fortran", np.asfortranarray(base), -1
    yield "step-2", np.repeat(base, 2, axis=1)[:, ::2], -1
    yield "reversed-classes", base[:, :, ::-1].copy()[:, :, ::-1], -1
    yield "class-axis-0-of-3d", np.moveaxis(base, -1, 0).copy(), 0


@pytest.mark.parametrize("C", [5, 19], ids=["C=5", "C=19"])
def test_strided_layouts_equal_contiguous(C, rng):
    """Any layout and class axis gives bitwise the results of the contiguous class-last copy."""
    for name, x, axis in _layouts(rng, C):
        sample_shape = tuple(s for k, s in enumerate(x.shape) if k != axis % x.ndim)
        y = rng.integers(0, C, sample_shape)
        w = rng.uniform(0.5, 2, sample_shape[-1])           # broadcast along the rest
        loss, grad = cbce.cross_entropy_loss_and_grad(y, x, axis=axis, sample_weight=w,
                                                      reduction="sum")
        xc = np.ascontiguousarray(np.moveaxis(x, axis, -1))
        loss_c, grad_c = cbce.cross_entropy_loss_and_grad(y, xc, sample_weight=w, reduction="sum")
        assert loss.hex() == loss_c.hex(), name
        assert grad.shape == x.shape and grad.flags.c_contiguous, name
        np.testing.assert_array_equal(np.moveaxis(grad, axis, -1), grad_c, err_msg=name)


@pytest.mark.parametrize("C", [5, 19], ids=["C=5", "C=19"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_gradient(dtype, C, rng):
    """out=logits overwrites the logits with the out-of-place gradient; the loss is the original's."""
    x = rng.normal(0, 3, (500, C)).astype(dtype)
    y = rng.integers(0, C, 500)
    e_loss, e_grad = cbce.cross_entropy_loss_and_grad(y, x.copy())
    loss, grad = cbce.cross_entropy_loss_and_grad(y, x, out=x)
    assert grad is x and loss == e_loss
    np.testing.assert_array_equal(x, e_grad)


def test_in_place_with_a_bad_target_leaves_the_logits_intact(rng):
    """A call that raises on a bad target modifies nothing, also with out=logits."""
    x = rng.normal(0, 3, (100, 4))
    before = x.copy()
    y = rng.integers(0, 4, 100)
    y[77] = 4
    with pytest.raises(ValueError, match="y_true"):
        cbce.cross_entropy_grad(y, x, out=x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(("dtype", "expected"), [(np.float32, np.float32), (np.float16, np.float32),
                                                 (np.int32, np.float64), (np.float64, np.float64)])
def test_dtypes(dtype, expected, rng):
    """float32 in, float32 out (math in float64); float16 -> float32; ints -> float64."""
    x = rng.integers(-3, 4, (20, 5)).astype(dtype)
    y = rng.integers(0, 5, 20)
    grad = cbce.cross_entropy_grad(y, x)
    assert grad.dtype == expected
    assert cbce.cross_entropy(y, x, reduction="none").dtype == expected


def test_one_dimensional_logits_are_one_sample():
    """1-D logits are one sample: a 0-d index or a probability vector."""
    x = np.array([1.0, 2.0, 0.5])
    assert cbce.cross_entropy(1, x) == pytest.approx(-math.log(_softmax(x[None])[0, 1]), rel=1e-15)
    assert cbce.cross_entropy(np.array([0.0, 1.0, 0.0]), x) == pytest.approx(cbce.cross_entropy(1, x), rel=1e-15)
    assert cbce.cross_entropy(1, x, reduction="none").shape == ()


# ---------------------------------------------------------------------------------------------
# Bad input

X = np.zeros((4, 3))
Y = np.array([0, 1, 2, 1])


@pytest.mark.parametrize("y_shape", [(3,), (4, 2), (4, 3, 1)], ids=["(3,)", "(4,2)", "(4,3,1)"])
def test_y_true_of_neither_shape_raises(y_shape):
    """y_true of neither logits' shape nor logits' shape without axis raises ValueError naming y_true."""
    with pytest.raises(ValueError, match="y_true"):
        cbce.cross_entropy(np.zeros(y_shape, int), X)


def test_float_class_indices_raise_type_error():
    """Class indices must be integers: a float array of the sample shape raises TypeError."""
    with pytest.raises(TypeError, match="y_true.*integer"):
        cbce.cross_entropy(Y.astype(float), X)


@pytest.mark.parametrize("bad", [3, -1, 2**40], ids=["C", "-1", "2**40"])
def test_class_index_out_of_range_raises_with_value_and_index(bad):
    """An index outside [0, C) raises ValueError naming y_true, the value and its index."""
    x = np.zeros((3000, 3))
    y = np.zeros(3000, int)
    y[2345] = bad
    with pytest.raises(ValueError, match=rf"y_true.*{bad}.*index 2345"):
        cbce.cross_entropy(y, x)


def test_probability_out_of_range_raises_with_value_and_full_index():
    """A probability target outside [0, 1] or NaN raises ValueError with its full index."""
    for bad in (1.5, -0.1, np.nan):
        x = np.zeros((2, 3, 4))
        y = np.full((2, 3, 4), 0.25)
        y[1, 2, 2] = bad
        with pytest.raises(ValueError, match=r"y_true.*index \(1, 2, 2\)"):
            cbce.cross_entropy(y, x, axis=1)


def test_ignore_index_with_probabilities_raises():
    """ignore_index is for class indices only (PyTorch's rule)."""
    with pytest.raises(ValueError, match="ignore_index"):
        cbce.cross_entropy(np.full((4, 3), 1 / 3), X, ignore_index=0)


@pytest.mark.parametrize(("kwargs", "name", "exc"), [
    ({"axis": 2}, "axis", ValueError), ({"axis": 1.0}, "axis", TypeError),
    ({"class_weight": np.ones(4)}, "class_weight", ValueError),
    ({"class_weight": np.ones((3, 1))}, "class_weight", ValueError),
    ({"sample_weight": np.ones(3)}, "sample_weight", ValueError),
    ({"ignore_index": 1.5}, "ignore_index", TypeError), ({"ignore_index": True}, "ignore_index", TypeError),
    ({"label_smoothing": 1.5}, "label_smoothing", ValueError),
    ({"reduction": "avg"}, "reduction", ValueError), ({"n_threads": 0}, "n_threads", ValueError),
], ids=["axis-2", "axis-float", "class_weight-4", "class_weight-2d", "sample_weight", "ignore_index-float",
        "ignore_index-bool", "label_smoothing", "reduction", "n_threads"])
def test_bad_options_name_the_argument(kwargs, name, exc):
    """Each bad option raises an error naming it."""
    with pytest.raises(exc, match=name):
        cbce.cross_entropy(Y, X, **kwargs)


@pytest.mark.parametrize(("out", "what"), [
    (np.empty((4, 3), np.float32), "dtype"), (np.empty((3, 4)), "shape"),
    (np.empty((3, 4)).T, "C-contiguous"), ([0.0] * 12, "ndarray")], ids=["dtype", "shape", "fortran", "list"])
def test_bad_out_raises(out, what):
    """A bad out= raises ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=what):
        cbce.cross_entropy_grad(Y, X, out=out)


def test_logits_without_classes_raise():
    """0-d logits or a zero-length class axis raise ValueError naming logits."""
    with pytest.raises(ValueError, match="logits"):
        cbce.cross_entropy(0, np.float64(1.0))
    with pytest.raises(ValueError, match="logits"):
        cbce.cross_entropy(np.zeros(4, int), np.zeros((4, 0)))


def test_complex_logits_raise_type_error():
    """Non-real logits raise TypeError naming logits."""
    with pytest.raises(TypeError, match="logits"):
        cbce.cross_entropy(Y, X.astype(complex))
