"""Per-element accuracy on an extreme-value table, against mpmath at 50 digits (docs, "Semantics").

Logits: loss and hess within 4 ulp of the exact value, grad within 4 ulp of the size of its terms
((1-y)·σ(x) + pw·y·σ(-x)), for float64 and, in float32 ulps, for float32. The exact values come from
tests/_mpmath_table.py (run it to print the table), evaluated at the inputs as cbce receives them:
x rounded to the dtype first; values that overflow the dtype are left out.
"""
import numpy as np
import pytest
from mpmath import mp, mpf

import cbce
from _mpmath_table import DPS, LABELS, LOGITS, POS_WEIGHTS, PROBS, logit_row, prob_row
from _reference import GRAD_DENOM_FLOOR

ULPS = 4
# The spec's 4 ulp is for the logits path. The probability gradient is a ratio of two rounded
# products, [(1-y)x - pw·y(1-x)] / (x(1-x)): up to 6 roundings of its terms' size, and one ulp of
# a value v is anywhere in (2^-53·v, 2^-52·v]; hence 8 ulp of its terms there.
PROB_GRAD_ULPS = 8

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
LABEL_PARAMS = [pytest.param(y, id=f"y={y:g}") for y in LABELS]
PW_PARAMS = [pytest.param(pw, id=f"pw={pw:g}") for pw in POS_WEIGHTS]

LOGIT_SOURCES = {
    # id: (quantity, function returning it for reduction="none")
    "bce-loss": ("loss", lambda y, x, **o: cbce.bce(y, x, from_logits=True, **o)),
    "bce_loss_and_grad-loss": ("loss", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, from_logits=True, **o)[0]),
    "bce_grad-grad": ("grad", lambda y, x, **o: cbce.bce_grad(y, x, from_logits=True, **o)),
    "bce_loss_and_grad-grad": ("grad", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, from_logits=True, **o)[1]),
    "bce_grad_hess-grad": ("grad", lambda y, x, **o: cbce.bce_grad_hess(y, x, **o)[0]),
    "bce_grad_hess-hess": ("hess", lambda y, x, **o: cbce.bce_grad_hess(y, x, **o)[1]),
}
PROB_SOURCES = {
    "bce-loss": ("loss", lambda y, x, **o: cbce.bce(y, x, **o)),
    "bce_loss_and_grad-loss": ("loss", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, **o)[0]),
    "bce_grad-grad": ("grad", lambda y, x, **o: cbce.bce_grad(y, x, **o)),
    "bce_loss_and_grad-grad": ("grad", lambda y, x, **o: cbce.bce_loss_and_grad(y, x, **o)[1]),
}


def _table_values(values, dtype):
    """The table's inputs rounded to dtype, those that overflow it dropped, duplicates merged."""
    largest = float(np.finfo(dtype).max)
    kept = np.array([v for v in values if abs(v) <= largest], dtype=dtype)
    return np.unique(kept)


def _over_tolerance(got, exact, yardstick, dtype, ulps):
    """Rows (x index, got, exact, error in ulps of the yardstick) whose error exceeds `ulps`."""
    bad = []
    with mp.workdps(DPS):
        for i, (g, e, ref) in enumerate(zip(got.tolist(), exact, yardstick)):
            spacing = float(np.spacing(np.abs(dtype(float(ref)))))
            err = abs(mpf(g) - e) / spacing if np.isfinite(g) else float("inf")
            if not err <= ulps:
                bad.append((i, g, float(e), float(err)))
    return bad


def _report(x, bad):
    return "\n".join(f"x={x[i]!r}: got {g!r}, exact {e!r}, error {u:.3g} ulp" for i, g, e, u in bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", PW_PARAMS)
@pytest.mark.parametrize("y", LABEL_PARAMS)
@pytest.mark.parametrize("source", list(LOGIT_SOURCES))
def test_logits_accurate_to_4_ulp(source, y, pw, dtype):
    """From logits, loss and hess are within 4 ulp of mpmath, grad within 4 ulp of its terms."""
    quantity, func = LOGIT_SOURCES[source]
    x = _table_values(LOGITS, dtype)
    got = func(np.full_like(x, y), x, pos_weight=pw, reduction="none")
    assert got.dtype == dtype and got.shape == x.shape
    rows = [logit_row(float(xi), y, pw) for xi in x]
    exact = [r[{"loss": 0, "grad": 1, "hess": 3}[quantity]] for r in rows]
    yardstick = [r[2] for r in rows] if quantity == "grad" else exact
    bad = _over_tolerance(got, exact, yardstick, dtype, ULPS)
    assert not bad, f"{quantity} over {ULPS} ulp:\n" + _report(x, bad)


def _prob_rows(x, y, pw):
    return [prob_row(float(xi), y, pw, GRAD_DENOM_FLOOR) for xi in x]


def _floor_active(xi):
    """x(1-x) below the gradient's denominator floor (exactly, not in floating point)."""
    with mp.workdps(DPS):
        return mpf(float(xi)) * (1 - mpf(float(xi))) < mpf(GRAD_DENOM_FLOOR)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", PW_PARAMS)
@pytest.mark.parametrize("y", LABEL_PARAMS)
@pytest.mark.parametrize("source", [s for s in PROB_SOURCES if s.endswith("loss")])
def test_probability_loss_accurate_to_4_ulp(source, y, pw, dtype):
    """From probabilities, the -100-clamped loss is within 4 ulp of mpmath, saturation included."""
    _, func = PROB_SOURCES[source]
    x = _table_values(PROBS, dtype)
    got = func(np.full_like(x, y), x, pos_weight=pw, reduction="none")
    assert got.dtype == dtype and got.shape == x.shape
    exact = [r[0] for r in _prob_rows(x, y, pw)]
    bad = _over_tolerance(got, exact, exact, dtype, ULPS)
    assert not bad, f"loss over {ULPS} ulp:\n" + _report(x, bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", PW_PARAMS)
@pytest.mark.parametrize("y", LABEL_PARAMS)
@pytest.mark.parametrize("source", [s for s in PROB_SOURCES if s.endswith("grad")])
def test_probability_grad_accurate(source, y, pw, dtype):
    """From probabilities, where x(1-x) is above the floor, grad is within 8 ulp of its terms."""
    _, func = PROB_SOURCES[source]
    x = _table_values(PROBS, dtype)
    x = x[[not _floor_active(xi) for xi in x]]
    got = func(np.full_like(x, y), x, pos_weight=pw, reduction="none")
    assert got.dtype == dtype and got.shape == x.shape
    rows = _prob_rows(x, y, pw)
    bad = _over_tolerance(got, [r[1] for r in rows], [r[2] for r in rows], dtype, PROB_GRAD_ULPS)
    assert not bad, f"grad over {PROB_GRAD_ULPS} ulp of its terms:\n" + _report(x, bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", PW_PARAMS)
@pytest.mark.parametrize("y", LABEL_PARAMS)
def test_probability_grad_denominator_floor_is_float32_1e_12(y, pw, dtype):
    """Where x(1-x) < 1e-12 the probability grad divides by float32(1e-12), as PyTorch (both dtypes)."""
    x = _table_values(PROBS, dtype)
    x = x[[_floor_active(xi) for xi in x]]
    assert x.size >= 4  # 0, denormals, 1e-20, 1
    got = cbce.bce_grad(np.full_like(x, y), x, pos_weight=pw, reduction="none")
    rows = _prob_rows(x, y, pw)
    bad = _over_tolerance(got, [r[1] for r in rows], [r[2] for r in rows], dtype, PROB_GRAD_ULPS)
    assert not bad, (f"grad with the floor {GRAD_DENOM_FLOOR!r} over {PROB_GRAD_ULPS} ulp:\n"
                     + _report(x, bad))


@pytest.mark.parametrize(("y", "x", "exact"), [
    pytest.param(0.0, -40.0, 4.248354255291589e-18, id="y=0-x=-40"),
    pytest.param(1.0, 40.0, 4.248354255291589e-18, id="y=1-x=40"),
    pytest.param(1.0, 745.0, 5e-324, id="y=1-x=745-denormal"),
])
def test_tiny_logit_losses_keep_their_digits(y, x, exact):
    """Tiny losses (where PyTorch returns 0 and scikit-learn loses every digit) come out right."""
    got = cbce.bce(np.array([y]), np.array([x]), from_logits=True, reduction="none")[0]
    assert abs(got - exact) <= ULPS * np.spacing(exact), (got, exact)


def max_ulp_table():
    """{(kind, source, dtype): max error in ulps over the table (all labels and pos_weights)}."""
    table = {}
    for kind, sources, values in (("logits", LOGIT_SOURCES, LOGITS), ("probs", PROB_SOURCES, PROBS)):
        for source, (quantity, func) in sources.items():
            for dtype in (np.float64, np.float32):
                x = _table_values(values, dtype)
                if kind == "probs" and quantity == "grad":
                    x = x[[not _floor_active(xi) for xi in x]]
                worst = 0.0
                for y in LABELS:
                    for pw in POS_WEIGHTS:
                        got = func(np.full_like(x, y), x, pos_weight=pw, reduction="none")
                        if kind == "logits":
                            rows = [logit_row(float(xi), y, pw) for xi in x]
                            exact = [r[{"loss": 0, "grad": 1, "hess": 3}[quantity]] for r in rows]
                            yard = [r[2] for r in rows] if quantity == "grad" else exact
                        else:
                            rows = _prob_rows(x, y, pw)
                            exact = [r[0 if quantity == "loss" else 1] for r in rows]
                            yard = [r[2] for r in rows] if quantity == "grad" else exact
                        bad = _over_tolerance(got, exact, yard, dtype, -1.0)
                        worst = max([worst] + [u for *_, u in bad])
                table[(kind, source, np.dtype(dtype).name)] = worst
    return table


if __name__ == "__main__":
    # `python tests/test_extreme_values.py`: the measured maxima, for the benchmark report.
    print(f"kernel variant: {cbce.show_config(print_=False)['kernel_variant']}")
    for (kind, source, dtype), worst in max_ulp_table().items():
        print(f"{kind:7s} {source:24s} {dtype:8s} max {worst:.2f} ulp")
