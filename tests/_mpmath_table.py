"""Exact reference values for cbce's extreme-value tests, computed with mpmath at 50 digits.

Run `python tests/_mpmath_table.py` to print the table (each value rounded to float64).
test_extreme_values.py computes it at test time from the same functions (≈0.1 s), so the values
and this script cannot drift apart.

Per element (reduction "none", w = 1), with y after label smoothing, pw = pos_weight:
  logits:             l = (1-y)·softplus(x) + pw·y·softplus(-x)
                      g = (1-y)·σ(x) - pw·y·σ(-x)         grad_scale = (1-y)·σ(x) + pw·y·σ(-x)
                      h = (pw·y + 1 - y)·σ(x)·σ(-x)
  probabilities:      l = -[pw·y·max(log x, -100) + (1-y)·max(log1p(-x), -100)]
                      g = [(1-y)·x - pw·y·(1-x)] / max(x·(1-x), floor)
                      grad_scale = [(1-y)·x + pw·y·(1-x)] / max(x·(1-x), floor)
x, y and pw are the float values cbce receives (exact binary numbers), so the only rounding is
cbce's own.
"""
from functools import lru_cache

from mpmath import mp, mpf

DPS = 50

# Every branch of a stable softplus / sigmoid: 0 and denormals, the Taylor region (|x| ≤ 1e-10),
# ordinary values, the thresholds where exp(-x) drops below float64's eps (36.9, 37, 40: the loss
# of y=1, x=40 is ≈4.2e-18), float64's exp overflow/underflow edges (709, 745, 746), and huge
# values up to 1e300 (softplus(x) = x, σ(-x) = 0). float max is left out: 3.5·max overflows.
LOGITS = sorted({s * v for s in (1.0, -1.0) for v in (
    0.0, 5e-324, 1e-300, 1e-10, 0.5, 1.0, 2.0, 18.0, 36.9, 37.0, 40.0, 100.0,
    709.0, 745.0, 746.0, 1000.0, 1e20, 1e300)})
LABELS = (0.0, 1.0, 0.25)
POS_WEIGHTS = (1.0, 3.5)

# Probabilities: exact 0 and 1, denormals, the log(x) = -100 clamp (e^-100 ≈ 3.7e-44: 1e-44 is
# clamped, 1e-40 is not), the x(1-x) < 1e-12 floor (1e-20, 1 - 2^-53), log1p territory
# (1e-8, 1 - 1e-8) and ordinary values.
PROBS = (0.0, 5e-324, 1e-300, 1e-44, 1e-40, 1e-20, 1e-13, 1e-8, 1e-3, 0.25, 0.5, 0.75,
         1.0 - 1e-3, 1.0 - 1e-8, 1.0 - 2.0 ** -53, 1.0)


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no catastrophic 1 + tiny at 50 digits.
    return max(x, 0) + mp.log1p(mp.exp(-abs(x)))


def _sigmoid(x):
    if x >= 0:
        return 1 / (1 + mp.exp(-x))
    e = mp.exp(x)
    return e / (1 + e)


@lru_cache(maxsize=None)
def logit_row(x, y, pw):
    """Exact (loss, grad, grad_scale, hess) for float logit x, label y, pos_weight pw."""
    with mp.workdps(DPS):
        x, y, pw = mpf(x), mpf(y), mpf(pw)
        s_pos, s_neg = _sigmoid(x), _sigmoid(-x)
        loss = (1 - y) * _softplus(x) + pw * y * _softplus(-x)
        grad = (1 - y) * s_pos - pw * y * s_neg
        scale = (1 - y) * s_pos + pw * y * s_neg
        hess = (pw * y + 1 - y) * s_pos * s_neg
        return loss, grad, scale, hess


@lru_cache(maxsize=None)
def prob_row(x, y, pw, floor):
    """Exact (loss, grad, grad_scale) for float probability x; floor is the x(1-x) floor used."""
    with mp.workdps(DPS):
        x, y, pw = mpf(x), mpf(y), mpf(pw)
        log_x = max(mp.log(x), -100) if x > 0 else mpf(-100)
        log_1mx = max(mp.log1p(-x), -100) if x < 1 else mpf(-100)
        loss = -(pw * y * log_x + (1 - y) * log_1mx)
        denom = max(x * (1 - x), mpf(floor))
        grad = ((1 - y) * x - pw * y * (1 - x)) / denom
        scale = ((1 - y) * x + pw * y * (1 - x)) / denom
        return loss, grad, scale


def main():
    floor = 9.999999960041972e-13  # float32(1e-12), see _reference.GRAD_DENOM_FLOOR
    print("# logits: x, y, pw, loss, grad, grad_scale, hess")
    for y in LABELS:
        for pw in POS_WEIGHTS:
            for x in LOGITS:
                row = logit_row(x, y, pw)
                print(f"{x!r:>24} {y} {pw} " + " ".join(repr(float(v)) for v in row))
    print("# probabilities: x, y, pw, loss, grad, grad_scale")
    for y in LABELS:
        for pw in POS_WEIGHTS:
            for x in PROBS:
                row = prob_row(x, y, pw, floor)
                print(f"{x!r:>24} {y} {pw} " + " ".join(repr(float(v)) for v in row))


if __name__ == "__main__":
    main()
