"""Exact models of the loss family (docs/focal-multiclass.md) with mpmath at 50 digits: focal BCE
and softmax cross-entropy. Run `python tests/_mpmath_family.py` to print the tables (rounded to
float64).

The models use the textbook formulas, not cbce's log-space algebra, so that a test comparing the
two checks the algebra too:

Focal BCE, logits x, label y (after label smoothing), pos_weight pw, a_t = alpha*y + (1-alpha)*(1-y)
(1 without alpha), s = sigma:
  q = y*s(-x) + (1-y)*s(x)    Q = q^g    CE = (1-y)*softplus(x) + pw*y*softplus(-x)
  q' = (1-2y)*s(x)*s(-x)      q'' = q'*(s(-x) - s(x))
  Q' = g*q^(g-1)*q'           Q'' = g*(g-1)*q^(g-2)*q'^2 + g*q^(g-1)*q''
  CE' = (1-y)*s(x) - pw*y*s(-x)                 CE'' = (pw*y + 1 - y)*s(x)*s(-x)
  loss = a_t*Q*CE     grad = a_t*(Q*CE' + Q'*CE)     hess = a_t*(Q''*CE + 2*Q'*CE' + Q*CE'')
  Yardsticks (the size of the terms, what a rounding error is measured against where the value
  cancels): grad_scale = a_t*(Q*[(1-y)*s(x) + pw*y*s(-x)] + |Q'|*CE),
  hess_scale = a_t*(|g*(g-1)|*q^(g-2)*q'^2*CE + g*q^(g-1)*|1-2y|*s(x)*s(-x)*CE
                    + 2*|Q'|*[(1-y)*s(x) + pw*y*s(-x)] + Q*CE'').
Focal BCE, probabilities x: q = y*(1-x) + (1-y)*x, CE and CE' as in _mpmath_table.prob_row (the -100
clamp, PyTorch's gradient with the x(1-x) floor), Q' = g*q^(g-1)*(1-2y) (0 where CE = 0).

Softmax cross-entropy of one row x (C logits), targets t (C values after label smoothing), class
weights cw: a_c = cw_c*t_c, W = sum a_c, p = softmax(x),
  loss = -sum_c a_c*log p_c      grad_c = W*p_c - a_c      grad_scale_c = W*p_c + |a_c|.
"""
from functools import lru_cache

from mpmath import mp, mpf

from _mpmath_table import LOGITS, _sigmoid, _softplus

DPS = 50

# Focal exponents: 0 (alpha only), the 0 < g < 1 range of the NaN reports, 1, the usual 2, a
# non-integer and a large one.
GAMMAS = (0.0, 0.25, 0.5, 1.0, 2.0, 3.7, 10.0)
ALPHAS = (None, 0.25)
FOCAL_LABELS = (0.0, 1.0, 0.25)
FOCAL_POS_WEIGHTS = (1.0, 3.5)
FOCAL_LOGITS = LOGITS


@lru_cache(maxsize=None)
def focal_logit_row(x, y, pw, g, alpha):
    """Exact (loss, grad, grad_scale, hess, hess_scale) of focal BCE at float logit x."""
    with mp.workdps(DPS):
        x, y, pw, g = mpf(x), mpf(y), mpf(pw), mpf(g)
        at = mpf(1) if alpha is None else mpf(alpha) * y + (1 - mpf(alpha)) * (1 - y)
        sp, sn = _sigmoid(x), _sigmoid(-x)
        q = y * sn + (1 - y) * sp
        Q = q**g
        ce = (1 - y) * _softplus(x) + pw * y * _softplus(-x)
        s2 = sp * sn
        q1 = (1 - 2 * y) * s2
        q2 = q1 * (sn - sp)
        Q1 = g * q ** (g - 1) * q1
        Q2 = g * (g - 1) * q ** (g - 2) * q1**2 + g * q ** (g - 1) * q2
        ce1 = (1 - y) * sp - pw * y * sn
        ce1_terms = (1 - y) * sp + pw * y * sn
        ce2 = (pw * y + 1 - y) * s2
        loss = at * Q * ce
        grad = at * (Q * ce1 + Q1 * ce)
        hess = at * (Q2 * ce + 2 * Q1 * ce1 + Q * ce2)
        grad_scale = at * (Q * ce1_terms + abs(Q1) * ce)
        hess_scale = at * (abs(g * (g - 1)) * q ** (g - 2) * q1**2 * ce
                           + g * q ** (g - 1) * abs(1 - 2 * y) * s2 * ce
                           + 2 * abs(Q1) * ce1_terms + Q * abs(ce2))
        return loss, grad, grad_scale, hess, hess_scale


@lru_cache(maxsize=None)
def focal_prob_row(x, y, pw, g, alpha, floor):
    """Exact (loss, grad, grad_scale) of focal BCE at float probability x (floor: see prob_row)."""
    with mp.workdps(DPS):
        x, y, pw, g = mpf(x), mpf(y), mpf(pw), mpf(g)
        at = mpf(1) if alpha is None else mpf(alpha) * y + (1 - mpf(alpha)) * (1 - y)
        q = y * (1 - x) + (1 - y) * x
        Q = q**g if q > 0 or g > 0 else mpf(1)
        log_x = max(mp.log(x), -100) if x > 0 else mpf(-100)
        log_1mx = max(mp.log1p(-x), -100) if x < 1 else mpf(-100)
        ce = -(pw * y * log_x + (1 - y) * log_1mx)
        denom = max(x * (1 - x), mpf(floor))
        ce1 = ((1 - y) * x - pw * y * (1 - x)) / denom
        ce1_terms = ((1 - y) * x + pw * y * (1 - x)) / denom
        Q1 = g * q ** (g - 1) * (1 - 2 * y) if ce != 0 else mpf(0)
        loss = at * Q * ce
        grad = at * (Q * ce1 + Q1 * ce)
        grad_scale = at * (Q * ce1_terms + abs(Q1) * ce)
        return loss, grad, grad_scale


def softmax_row(x, t, cw=None):
    """Exact (loss, grad, grad_scale) of cross-entropy for one row of float logits x (finite or
    -inf), targets t (already smoothed) and class weights cw (None: ones)."""
    with mp.workdps(DPS):
        C = len(x)
        cw = [mpf(1)] * C if cw is None else [mpf(v) for v in cw]
        a = [cw[c] * mpf(t[c]) for c in range(C)]
        m = max(mpf(v) for v in x)
        top = [mpf(v) for v in x].index(m)
        e = [mp.exp(mpf(v) - m) if v != float("-inf") else mpf(0) for v in x]
        # log S = log1p(S - 1), S - 1 summed without the top term: 1 + e^-709 is 1 at 50 digits.
        log_s = mp.log1p(mp.fsum(e[c] for c in range(C) if c != top))
        W = mp.fsum(a)
        # -log p_c = (m - x_c) + log S; a zero target weight on a -inf logit contributes 0.
        loss = mp.fsum(a[c] * ((m - mpf(x[c])) + log_s) for c in range(C) if a[c] != 0)
        p = [v / mp.exp(log_s) for v in e]
        grad = [W * p[c] - a[c] for c in range(C)]
        scale = [abs(W) * p[c] + abs(a[c]) for c in range(C)]
        return loss, grad, scale


# Rows of the softmax table: a dominant class at the margins of LOGITS (the two-class relation
# CE([0, x]) = BCE(x) at every extreme), three classes with large gaps, ties, a -inf mask.
SOFTMAX_ROWS = (
    [(0.0, v) for v in LOGITS]
    + [(-40.0, 0.0, 40.0), (0.0, -745.0, 745.0), (1e300, -1e300, 0.0), (3.0, 3.0, -1.0),
       (5e-324, 0.0, -5e-324), (-1e20, 17.0, 18.0), (2.0, float("-inf"), 1.0),
       (0.5, 0.25, 0.125, -36.9, 709.0)]
)


def main():
    floor = 9.999999960041972e-13
    print("# focal, logits: x, y, pw, gamma, alpha, loss, grad, grad_scale, hess, hess_scale")
    for g in GAMMAS:
        for alpha in ALPHAS:
            for y in FOCAL_LABELS:
                for x in FOCAL_LOGITS:
                    row = focal_logit_row(x, y, 1.0, g, alpha)
                    print(f"{x!r:>24} {y} 1.0 {g} {alpha} " + " ".join(repr(float(v)) for v in row))
    print("# focal, probabilities (pw = 1): x, y, gamma, alpha, loss, grad, grad_scale")
    from _mpmath_table import PROBS
    for g in GAMMAS:
        for y in FOCAL_LABELS:
            for x in PROBS:
                row = focal_prob_row(x, y, 1.0, g, None, floor)
                print(f"{x!r:>24} {y} {g} None " + " ".join(repr(float(v)) for v in row))
    print("# softmax rows, target class 0 / last: loss")
    for row in SOFTMAX_ROWS:
        for k in (0, len(row) - 1):
            t = [1.0 if c == k else 0.0 for c in range(len(row))]
            print(row, k, repr(float(softmax_row(row, t)[0])))


if __name__ == "__main__":
    main()
