"""A slow, plain-Python model of cbce's documented semantics (docs/semantics.md), for
the property-based tests (docs/design.md, "Reliability").

One element at a time, in mpmath at 30 digits from the float values cbce receives (inputs rounded
to the compute dtype first), with the documented rules written out literally: conversions, checks
in the facade's order, label smoothing, the PyTorch clamp and floor, the 0·inf = 0 rule for a zero
coefficient (Note B of cbce/_elementwise.pxd), the reductions. `expect()` returns either the
exception a call must raise or the exact values with the tolerance each may differ by.

Tolerances (per element, in units of the float64 epsilon 2^-52 unless said):
  logits:        loss 5 |l| (docs: 4 ulp; + the sample-weight product), grad and hess 6 times
                 the size of the gradient's terms (4 ulp + the weight-times-scale products);
  probabilities: loss 6 |l|, grad 8 times the size of its terms (x·(1-x) is rounded too);
  label smoothing rounds y·(1-ls) + ls/2: + 2·|∂l/∂y|;
  subnormal intermediates: + 8·2^-1074 times the factor their error can grow by (weights,
                 1/max(x(1-x), floor));
  float32 outputs: + half a float32 ulp, and the float32 subnormal spacing; float32 inputs
                 (computed in float arithmetic) take float32's epsilon and spacing, except
                 the hessian and the gradient of probabilities (double arithmetic);
  reductions:    sum within 1e-14 Σ|l| (docs) + the elements' tolerances; mean, weighted_mean
                 divide once more.
"""
import math
import numbers
import operator

import mpmath
import numpy as np

DPS = 30
EPS64 = 2.0 ** -52
EPS32 = 2.0 ** -23
LOG_FLOOR = -100.0
GRAD_FLOOR = float(np.float32(1e-12))
REDUCTIONS = ("none", "sum", "mean", "weighted_mean")


class Raises:
    """The call must raise `kind` with every string of `parts` in its message."""

    def __init__(self, kind, *parts):
        self.kind, self.parts = kind, parts

    def __repr__(self):
        return f"Raises({self.kind.__name__}, {self.parts})"


def _numeric(a, name):
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        return Raises(TypeError, name)
    return arr


def compute_dtype(x):
    if x.dtype in (np.float32, np.float64):
        return np.dtype(x.dtype.name)
    if x.dtype.kind == "f" and x.dtype.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _options(reduction, n_threads, label_smoothing, eps, from_logits):
    if not isinstance(from_logits, (bool, np.bool_)):
        return Raises(TypeError, "from_logits")
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        return Raises(ValueError, "reduction")
    if n_threads is not None:
        if not isinstance(n_threads, numbers.Integral) or isinstance(n_threads, (bool, np.bool_)) \
                or operator.index(n_threads) < 1:
            return Raises(ValueError, "n_threads")
    if not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, (bool, np.bool_)):
        return Raises(TypeError, "label_smoothing")
    if not 0.0 <= float(label_smoothing) <= 1.0:
        return Raises(ValueError, "label_smoothing")
    return None


def _eps_range(eps, from_logits, dtype):
    if eps is None:
        return 0.0, 1.0
    if from_logits:
        return Raises(ValueError, "eps")
    if not isinstance(eps, numbers.Real) or isinstance(eps, (bool, np.bool_)):
        return Raises(TypeError, "eps")
    if not 0.0 < float(eps) < 0.5:
        return Raises(ValueError, "eps")
    t = dtype.type
    return float(t(eps)), float(t(1.0) - t(eps))


def _weight(a, name, shape, dtype):
    if a is None:
        return np.ones(shape)
    arr = _numeric(a, name)
    if isinstance(arr, Raises):
        return arr
    try:
        b = np.broadcast_to(arr.astype(dtype), shape)
    except ValueError:
        return Raises(ValueError, name)
    return b.astype(np.float64)


def _where(idx):
    return f"index {idx[0]}" if len(idx) == 1 else f"index {idx}"


def _softplus(x):
    """log(1 + e^x) for an mpf x (infinities included)."""
    if mpmath.isinf(x):
        return x if x > 0 else mpmath.mpf(0)
    return max(x, 0) + mpmath.log1p(mpmath.exp(-abs(x)))


def _sigmoid(x):
    if mpmath.isinf(x):
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)
    return 1 / (1 + mpmath.exp(-x))


def _term(coef, value):
    # A zero coefficient contributes exactly 0, also against an infinite softplus (Note B).
    return mpmath.mpf(0) if coef == 0 else coef * value


def _element(x, y, w, pw, ls, lo, hi, from_logits):
    """Exact (loss, grad, hess, grad_scale, |dl/dy|, amplification) of one element, unreduced,
    as mpf. `amplification` bounds the factor by which a subnormal intermediate's absolute
    rounding error (<= 2^-1075) can grow on its way to the result."""
    x, y, w, pw = (mpmath.mpf(v) for v in (x, y, w, pw))
    y = y * (1 - mpmath.mpf(ls)) + mpmath.mpf(ls) / 2
    if from_logits:
        if mpmath.isnan(x):
            nan = mpmath.mpf("nan")
            loss = w * (_term(1 - y, nan) + _term(pw * y, nan))
            return loss, nan, nan, mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
        sp, sn = _softplus(x), _softplus(-x)
        s_pos, s_neg = _sigmoid(x), _sigmoid(-x)
        loss = w * (_term(1 - y, sp) + _term(pw * y, sn))
        grad = w * ((1 - y) * s_pos - pw * y * s_neg)
        hess = w * (pw * y + 1 - y) * s_pos * s_neg
        scale = abs(w) * ((1 - y) * s_pos + pw * y * s_neg)
        dldy = abs(w) * (abs(pw) * sn + sp)
        return loss, grad, hess, scale, dldy, abs(w) * (1 + abs(pw))
    x = min(max(x, mpmath.mpf(lo)), mpmath.mpf(hi))
    log_x = max(mpmath.log(x), LOG_FLOOR) if x > 0 else mpmath.mpf(LOG_FLOOR)
    log_1mx = max(mpmath.log1p(-x), LOG_FLOOR) if x < 1 else mpmath.mpf(LOG_FLOOR)
    loss = -w * (pw * y * log_x + (1 - y) * log_1mx)
    denom = max(x * (1 - x), mpmath.mpf(GRAD_FLOOR))
    grad = w * ((1 - y) * x - pw * y * (1 - x)) / denom
    scale = abs(w) * ((1 - y) * x + abs(pw) * y * (1 - x)) / denom
    dldy = abs(w) * (abs(pw) * abs(log_x) + abs(log_1mx))
    return loss, grad, None, scale, dldy, abs(w) * (1 + abs(pw)) * max(1, 1 / denom)


def _fsum(values):
    if any(math.isnan(v) for v in values):
        return math.nan
    if any(math.isinf(v) for v in values):
        signs = {math.copysign(1.0, v) for v in values if math.isinf(v)}
        return math.nan if len(signs) > 1 else math.copysign(math.inf, signs.pop())
    return math.fsum(values)


def _div(a, b):
    if b == 0.0 or math.isnan(b):
        return math.nan if (a == 0.0 or math.isnan(a) or math.isnan(b)) else math.copysign(math.inf, a)
    return a / b


def expect(y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None,
           label_smoothing=0.0, eps=None, reduction="mean", n_threads=None, hessian=False):
    """What a cbce call must give: a Raises, or a dict of
    value (reduced loss, float) / loss, grad, hess (float64 arrays of exact values rounded once),
    loss_tol, grad_tol, hess_tol (arrays), value_tol (float), dtype (compute dtype)."""
    bad = _options(reduction, n_threads, label_smoothing, eps, from_logits)
    if bad:
        return bad
    x = _numeric(y_pred, "y_pred")
    if isinstance(x, Raises):
        return x
    y = _numeric(y_true, "y_true")
    if isinstance(y, Raises):
        return y
    if x.shape != y.shape:
        return Raises(ValueError, "y_true", "y_pred")
    dtype = compute_dtype(x)
    rng = _eps_range(eps, from_logits, dtype)
    if isinstance(rng, Raises):
        return rng
    lo, hi = rng
    shape = x.shape
    xs = x.astype(dtype).astype(np.float64)
    ys = y.astype(dtype).astype(np.float64)
    w = _weight(sample_weight, "sample_weight", shape, dtype)
    if isinstance(w, Raises):
        return w
    pw = _weight(pos_weight, "pos_weight", shape, dtype)
    if isinstance(pw, Raises):
        return pw

    # Range checks: the first invalid element in C order; y_true is named if it is the bad one.
    y_bad = ~((ys >= 0.0) & (ys <= 1.0))
    x_bad = np.zeros(shape, bool) if from_logits else ~((xs >= 0.0) & (xs <= 1.0))
    either = (y_bad | x_bad).reshape(-1)
    if either.any():
        flat = int(np.argmax(either))
        idx = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
        if y_bad[idx]:
            return Raises(ValueError, "y_true", repr(float(ys[idx])), _where(idx))
        return Raises(ValueError, "y_pred", repr(float(xs[idx])), _where(idx))

    ls = float(label_smoothing)
    n = xs.size
    fields = {k: np.empty(shape) for k in ("loss", "grad", "hess", "scale", "dldy", "amp")}
    with mpmath.workdps(DPS):
        for idx in np.ndindex(shape):
            got = _element(xs[idx], ys[idx], w[idx], pw[idx], ls, lo, hi, from_logits)
            for k, v in zip(fields, got):
                fields[k][idx] = math.nan if v is None else float(v)

    with np.errstate(invalid="ignore", over="ignore"):      # inf * 0 = nan, as in cbce
        return _values(fields, w, n, ls, reduction, dtype, from_logits, sample_weight is not None)


def _values(fields, w, n, ls, reduction, dtype, from_logits, weighted):
    wsum = math.fsum(w.reshape(-1)) if weighted else float(n)
    factor = {"none": 1.0, "sum": 1.0, "mean": _div(1.0, float(n)),
              "weighted_mean": _div(1.0, wsum)}[reduction]
    loss = fields["loss"]
    # float32 inputs are computed in float arithmetic, except the hessian and the gradient of
    # probabilities (docs/semantics.md, dtypes): those losses take float32's epsilon and subnormal spacing
    # (reduced losses too), and their labels are smoothed in float32.
    f32_loss = dtype == np.float32
    f32_math = from_logits and dtype == np.float32
    eps_l = EPS32 if f32_loss else EPS64
    eps = EPS32 if f32_math else EPS64
    smooth_l = 2.0 * eps_l * fields["dldy"] if ls else 0.0
    smooth = 2.0 * (EPS32 if f32_loss else EPS64) * fields["dldy"] if ls else 0.0
    k_loss, k_grad = (5.0, 6.0) if from_logits else (6.0, 8.0)
    tiny_l = 8 * 2.0 ** (-149 if f32_loss else -1074) * (1 + fields["amp"])
    tiny = 8 * 2.0 ** (-149 if f32_math else -1074) * (1 + fields["amp"])   # subnormal intermediates
    loss_tol = k_loss * eps_l * np.abs(loss) + smooth_l + tiny_l
    grad = fields["grad"] * factor
    grad_tol = (k_grad * eps * fields["scale"] + smooth + tiny) * abs(factor)
    hess = fields["hess"] * factor
    hess_tol = 6.0 * eps * np.abs(hess) + tiny * abs(factor)
    total = _fsum(loss.reshape(-1).tolist())
    abs_total = _fsum(np.abs(loss).reshape(-1).tolist())
    value = {"none": math.nan, "sum": total, "mean": _div(total, float(n)),
             "weighted_mean": _div(total, wsum)}[reduction]
    tol_sum = 1e-14 * abs_total + _fsum(np.asarray(loss_tol).reshape(-1).tolist() or [0.0])
    divisor = {"none": 1.0, "sum": 1.0, "mean": float(n), "weighted_mean": abs(wsum)}[reduction]
    value_tol = (_div(tol_sum, divisor) if tol_sum else 0.0) * (1 + 4 * EPS64) \
        + 4 * EPS64 * abs(value if math.isfinite(value) else 0.0)
    if dtype == np.float32:
        half32 = 0.5 * EPS32
        sub32 = 2.0 ** -149
        loss_tol = loss_tol + half32 * np.abs(loss) + sub32
        grad_tol = grad_tol + half32 * np.abs(grad) + sub32
        hess_tol = hess_tol + half32 * np.abs(hess) + sub32
    return {"value": value, "value_tol": value_tol, "loss": loss, "loss_tol": loss_tol,
            "grad": grad, "grad_tol": grad_tol, "hess": hess, "hess_tol": hess_tol,
            "dtype": dtype, "degenerate": not math.isfinite(factor)}


def mismatches(got, want, tol, dtype):
    """Indices where `got` (cbce's output array) is not within `tol` of `want` (exact values)."""
    got = np.asarray(got, dtype=np.float64)
    if dtype == np.float32:
        # The exact value rounded to float32 may overflow: then inf is the right answer.
        with np.errstate(over="ignore"):
            want32 = want.astype(np.float32).astype(np.float64)
        want = np.where(np.isinf(want32) & np.isfinite(want), want32, want)
    with np.errstate(invalid="ignore"):
        ok = np.where(np.isnan(want), np.isnan(got),
                      np.where(np.isinf(want), got == want, np.abs(got - want) <= tol))
    return np.argwhere(~ok)
