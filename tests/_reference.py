"""Slow, plain NumPy float64 reference for cbce (docs/semantics.md).

Straightforward stable formulas (np.logaddexp, a sign-split sigmoid, log1p), no speed tricks. Every
quantity is computed per element in float64 and reduced with math.fsum. Inputs are first rounded to
cbce's compute dtype, so a float32 call and this reference see the same numbers.
"""
import math

import numpy as np

REDUCTIONS = ("none", "sum", "mean", "weighted_mean")

# PyTorch's clamp of log(x) and log(1 - x): a saturated prediction costs 100, not inf.
LOG_FLOOR = -100.0
# PyTorch's floor of x(1 - x) in the probability gradient. Its backward stores EPSILON = 1e-12 as a
# float32 constant, for float64 tensors too: torch 2.13 float64, p=0, y=1 gives grad
# -1000000003995.8029 = -1 / float32(1e-12), not -1e12.
GRAD_DENOM_FLOOR = float(np.float32(1e-12))


def compute_dtype(y_pred):
    """cbce's compute dtype for y_pred: float32 for float32/float16, float64 for the rest."""
    dtype = np.asarray(y_pred).dtype
    if dtype in (np.float32, np.float16):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow and with full relative accuracy in both tails."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x):
    """log(1 + exp(x))."""
    return np.logaddexp(0.0, x)


def _broadcast64(a, dtype, shape, default):
    a = default if a is None else a
    return np.broadcast_to(np.asarray(a).astype(dtype).astype(np.float64), shape)


def elementwise(y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None,
                label_smoothing=0.0, eps=None):
    """Per-element (reduction "none") quantities as float64 arrays of y_pred's shape.

    Returns a dict with loss, grad, hess (logits only, else None), grad_scale (the size of the
    gradient's two terms, |w|·[(1-y)σ(x) + pw·y·σ(-x)] or its probability analogue: the yardstick
    for the gradient's error, which cancels near its zero) and weight (w broadcast to x.shape).
    """
    dtype = compute_dtype(y_pred)
    x = np.asarray(y_pred).astype(dtype).astype(np.float64)
    shape = x.shape
    y = _broadcast64(y_true, dtype, shape, 0.0)
    w = _broadcast64(sample_weight, dtype, shape, 1.0)
    pw = _broadcast64(pos_weight, dtype, shape, 1.0)
    ls = float(label_smoothing)
    y = y * (1.0 - ls) + 0.5 * ls
    if from_logits:
        s_pos, s_neg = sigmoid(x), sigmoid(-x)
        loss = w * ((1.0 - y) * softplus(x) + pw * y * softplus(-x))
        grad = w * ((1.0 - y) * s_pos - pw * y * s_neg)
        grad_scale = np.abs(w) * ((1.0 - y) * s_pos + pw * y * s_neg)
        hess = w * (pw * y + 1.0 - y) * s_pos * s_neg
    else:
        if eps is not None:
            x = np.clip(x, eps, 1.0 - eps)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-x), LOG_FLOOR)
        loss = -w * (pw * y * log_x + (1.0 - y) * log_1mx)
        denom = np.maximum(x * (1.0 - x), GRAD_DENOM_FLOOR)
        grad = w * ((1.0 - y) * x - pw * y * (1.0 - x)) / denom
        grad_scale = np.abs(w) * ((1.0 - y) * x + pw * y * (1.0 - x)) / denom
        hess = None
    return {"loss": loss, "grad": grad, "hess": hess, "grad_scale": grad_scale,
            "weight": np.ascontiguousarray(w)}


def scale_factor(reduction, weight):
    """What the gradient and hessian are multiplied by for a reduction: 1, 1/N or 1/Σw."""
    if reduction in ("none", "sum"):
        return 1.0
    if reduction == "mean":
        return 1.0 / weight.size if weight.size else math.nan
    if reduction == "weighted_mean":
        total = math.fsum(weight.ravel())
        return 1.0 / total if total else math.nan
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce_loss(per_element, reduction, weight):
    """Reduce per-element losses exactly as docs/semantics.md defines it (fsum, then ÷N or ÷Σw)."""
    if reduction == "none":
        return per_element
    total = math.fsum(per_element.ravel())
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / per_element.size if per_element.size else math.nan
    if reduction == "weighted_mean":
        wsum = math.fsum(weight.ravel())
        return total / wsum if wsum else math.nan
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def bce(y_true, y_pred, *, reduction="mean", **options):
    """Reference loss: float for a reduction, float64 array for "none"."""
    q = elementwise(y_true, y_pred, **options)
    return reduce_loss(q["loss"], reduction, q["weight"])


def bce_grad(y_true, y_pred, *, reduction="mean", **options):
    """Reference gradient of the reduced loss, float64 array of y_pred's shape."""
    q = elementwise(y_true, y_pred, **options)
    return q["grad"] * scale_factor(reduction, q["weight"])


def bce_grad_hess(y_true, y_pred, *, reduction="mean", **options):
    """Reference (grad, hess) of the reduced loss for logits."""
    q = elementwise(y_true, y_pred, from_logits=True, **options)
    f = scale_factor(reduction, q["weight"])
    return q["grad"] * f, q["hess"] * f


def grad_scale(y_true, y_pred, *, reduction="mean", **options):
    """The size of the gradient's terms, scaled like the gradient (tolerance yardstick)."""
    q = elementwise(y_true, y_pred, **options)
    return q["grad_scale"] * abs(scale_factor(reduction, q["weight"]))
