"""Write tools/aarch64/tables.txt: inputs and mpmath reference values for loop_test.c.

    python tools/aarch64/gen_tables.py        # about a minute; rewrites tables.txt

The exact values come from the functions the Python test suite checks against
(tests/_mpmath_table.py, tests/_mpmath_family.py), so the formulas are written once. Each group
is one set of loop options over a list of rows; loop_test.c runs every loop of the group's family
on it. Per row: x y w p, then for each of loss, grad, hess the exact value as a double-double
(hi lo) and the yardstick its error is measured in ulps of (the value itself for losses and
hessians, the size of the terms for gradients: tests/test_extreme_values.py, tests/test_focal.py).
"nan" marks a value that is not checked (it overflows the dtype, or the row is out of range).

Loop outputs are weighted and scaled: buf = w*loss, g = w*sc*grad, h = w*sc*hess. w and sc are
powers of two here, so the products are exact and the bounds are the per-element ones. Labels
are smoothed as y*keep + add with keep = 0.75, add = 0.125, exact in either dtype with or without
FMA, so every target must meet the bound on the same exact values.
"""
import math
import os
import sys

import numpy as np
from mpmath import mp, mpf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
from _mpmath_family import DPS, focal_logit_row, focal_prob_row, softmax_row  # noqa: E402
from _mpmath_table import LABELS, LOGITS, PROBS, logit_row, prob_row  # noqa: E402

FLOOR = float(np.float32(1e-12))          # the x(1-x) floor the package passes (_reference.py)
NAN = float("nan")


def _rnd(v, f32):
    return float(np.float32(v)) if f32 else float(v)


def _fits(v, f32):
    big = float(np.finfo(np.float32 if f32 else np.float64).max)
    return abs(v) <= big


def _dd(v, f32):
    """(hi, lo) of mpf v; nan, nan where it overflows the dtype."""
    with mp.workdps(DPS):
        if not mp.isfinite(v):
            return float(v), 0.0
        hi = float(v)
        if not _fits(hi, f32):
            return NAN, NAN
        return hi, float(v - mpf(hi))


def _h(v):
    return "nan" if v != v else float(v).hex()


def _ys(v, f32):
    y = float(abs(v))
    return "nan" if not _fits(y, f32) else f"{y:.6e}"


def _row(x, y, w, p, vals, f32):
    """vals: [(exact, yardstick) or None for loss, grad, hess]."""
    out = [_h(x), _h(y), _h(w), _h(p)]
    for v in vals:
        if v is None:
            out += ["nan", "nan", "nan"]
        else:
            hi, lo = _dd(v[0], f32)
            out += [_h(hi), _h(lo), _ys(v[1], f32) if hi == hi else "nan"]
    return " ".join(out)


def groups():
    for f32 in (False, True):
        dt = "f32" if f32 else "f64"
        xs = sorted({_rnd(v, f32) for v in LOGITS if _fits(v, f32)})
        ps = sorted({_rnd(v, f32) for v in PROBS})
        # Logits: plain; uniform weight, pos_weight, smoothing, scale; per-element weights.
        for name, uni, keep, add, sc, wp in (
                ("plain", 1, 1.0, 0.0, 1.0, lambda i: (1.0, 1.0)),
                ("uniform-w-pw-smooth-scale", 1, 0.75, 0.125, 0.25, lambda i: (0.5, 3.5)),
                ("elementwise-w-pw", 0, 1.0, 0.0, 1.0, lambda i: ((1.0, 0.5, 2.0)[i % 3],
                                                                  (1.0, 3.5)[i % 2]))):
            rows = []
            for y in LABELS:
                for x in xs:
                    w, p = wp(len(rows))
                    ye = y * keep + add
                    loss, grad, scale, hess = logit_row(x, ye, p)
                    k = w * sc
                    rows.append(_row(x, y, w, p, [(w * loss, w * loss), (k * grad, k * scale),
                                                  (k * hess, k * hess)], f32))
            yield (f"logit {dt} {name} uni={uni} keep={keep!r} add={add!r} lo=0 hi=1 fl=0 "
                   f"sc={sc!r} gamma=0 alpha=-1 ulps=4,4,4 flag=0", rows)
        # Probabilities: plain (the package's floor), and a clip to [2^-20, 1 - 2^-20]. The
        # "hard" groups hold labels 0 and 1 only, without smoothing: the loss loops then take
        # their one-log form (cbce_prob_loss_hard), which a group with a soft label never runs.
        for name, uni, keep, add, sc, lo, hi, wp, labels in (
                ("plain", 1, 1.0, 0.0, 1.0, 0.0, 1.0, lambda i: (1.0, 1.0), LABELS),
                ("uniform-w-pw-smooth-scale-clip", 1, 0.75, 0.125, 0.25, 2.0**-20,
                 1.0 - 2.0**-20, lambda i: (0.5, 3.5), LABELS),
                ("elementwise-w-pw", 0, 1.0, 0.0, 1.0, 0.0, 1.0,
                 lambda i: ((1.0, 0.5, 2.0)[i % 3], (1.0, 3.5)[i % 2]), LABELS),
                ("hard-labels-uniform-w-pw-clip", 1, 1.0, 0.0, 0.25, 2.0**-20, 1.0 - 2.0**-20,
                 lambda i: (0.5, 3.5), (0.0, 1.0)),
                ("hard-labels-elementwise-w-pw", 0, 1.0, 0.0, 1.0, 0.0, 1.0,
                 lambda i: ((1.0, 0.5, 2.0)[i % 3], (1.0, 3.5)[i % 2]), (0.0, 1.0))):
            rows = []
            for y in labels:
                for x in ps:
                    w, p = wp(len(rows))
                    xc = min(max(x, lo), hi)
                    loss, grad, scale = prob_row(xc, y * keep + add, p, FLOOR)
                    k = w * sc
                    rows.append(_row(x, y, w, p, [(w * loss, w * loss), (k * grad, k * scale),
                                                  None], f32))
            yield (f"prob {dt} {name} uni={uni} keep={keep!r} add={add!r} lo={lo!r} hi={hi!r} "
                   f"fl={FLOOR!r} sc={sc!r} gamma=0 alpha=-1 ulps=4,8,4 flag=0", rows)
        # Focal: per-element weights always (the focal loops take no uniform form).
        for gamma, alpha in ((0.5, None), (2.0, 0.25)):
            a = -1.0 if alpha is None else alpha
            rows = []
            for y in LABELS:
                for x in xs:
                    w, p = (1.0, 0.5, 2.0)[len(rows) % 3], (1.0, 3.5)[len(rows) % 2]
                    loss, grad, gs, hess, hs = focal_logit_row(x, y * 0.75 + 0.125, p, gamma, alpha)
                    rows.append(_row(x, y, w, p, [(w * loss, w * loss), (w * grad, w * gs),
                                                  (w * hess, w * hs)], f32))
            u = 4 + gamma
            yield (f"focal_logit {dt} gamma={gamma} uni=0 keep=0.75 add=0.125 lo=0 hi=1 fl=0 "
                   f"sc=1.0 gamma={gamma!r} alpha={a!r} ulps={u},{u},{u} flag=0", rows)
            rows = []
            for y in LABELS:
                for x in ps:
                    w, p = (1.0, 0.5, 2.0)[len(rows) % 3], (1.0, 3.5)[len(rows) % 2]
                    loss, grad, gs = focal_prob_row(x, y * 0.75 + 0.125, p, gamma, alpha, FLOOR)
                    rows.append(_row(x, y, w, p, [(w * loss, w * loss), (w * grad, w * gs), None],
                                     f32))
            yield (f"focal_prob {dt} gamma={gamma} uni=0 keep=0.75 add=0.125 lo=0 hi=1 "
                   f"fl={FLOOR!r} sc=1.0 gamma={gamma!r} alpha={a!r} ulps={u},{8 + gamma},{u} "
                   f"flag=0", rows)
        # Range checks: one label out of [0, 1] (or NaN; probabilities: x too) sets the flag.
        for fam in ("logit", "prob", "focal_logit", "focal_prob"):
            for bad_y, bad_x in ((1.5, None), (NAN, None), (-0.25, None), (None, 1.5), (None, NAN),
                                 (None, None)):
                if bad_x is not None and not fam.endswith("prob"):
                    continue
                rows = []
                for i in range(21):
                    x, y = (0.25, 1.0) if fam.endswith("prob") else (-3.0, 1.0)
                    if i == 13:
                        y = y if bad_y is None else bad_y
                        x = x if bad_x is None else bad_x
                    rows.append(_row(x, y, 1.0, 1.0, [None, None, None], f32))
                flag = int(bad_y is not None or bad_x is not None)
                yield (f"{fam} {dt} range-check uni=0 keep=1.0 add=0.0 lo=0 hi=1 fl={FLOOR!r} "
                       f"sc=1.0 gamma=2.0 alpha=-1 ulps=4,4,4 flag={flag}", rows)
    # Softmax (float64 loops): rows of 2 to 5 classes, one-hot targets on each class in turn.
    yield from softmax_groups()


def softmax_groups():
    from _mpmath_family import SOFTMAX_ROWS
    by_c = {}
    for x in SOFTMAX_ROWS:
        by_c.setdefault(len(x), []).append(x)
    for C, xs in sorted(by_c.items()):
        for smooth in (False, True):
            keep, add = (0.75, 0.25 / C) if smooth else (1.0, 0.0)
            rows = []
            for i, x in enumerate(xs):
                t = i % C
                tgt = [add + (keep if c == t else 0.0) for c in range(C)]
                loss, grad, scale = softmax_row(list(x), tgt)
                cells = [_h(float(v)) for v in x] + [str(t)]
                hi, lo = _dd(loss, False)
                cells += [_h(hi), _h(lo), _ys(abs(loss), False)]
                for c in range(C):
                    hi, lo = _dd(grad[c], False)
                    cells += [_h(hi), _h(lo), _ys(scale[c], False)]
                rows.append(" ".join(cells))
            yield (f"softmax f64 C={C}{'-smooth' if smooth else ''} uni=1 keep={keep!r} "
                   f"add={add!r} lo=0 hi=1 fl=0 sc=1.0 gamma=0 alpha=-1 ulps=4,4,4 flag=0 C={C}",
                   rows)


def main():
    path = os.path.join(HERE, "tables.txt")
    n = 0
    with open(path, "w") as f:
        f.write("# Generated by tools/aarch64/gen_tables.py (mpmath, %d digits); do not edit.\n" % DPS)
        for head, rows in groups():
            f.write(f"group {len(rows)} {head}\n")
            f.writelines(r + "\n" for r in rows)
            n += len(rows)
    print(f"{path}: {n} rows")


if __name__ == "__main__":
    main()
