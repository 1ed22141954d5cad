"""The vectorizable math helpers of cbce/include/cbce_math.h against mpmath, on dense grids.

Every CPU target built that this CPU runs (baseline, sse42, avx2, avx512: src/loops/table.h)
evaluates the helper through its own loop table's `math_eval`, a loop compiled in the same
translation unit and with the same flags as that target's element loops.
The error of y against the exact value v is |y - v| / ulp(v), with ulp(v) = 2^(e-53) for
2^(e-1) <= |v| < 2^e, and never below the subnormal spacing 2^-1074 (subnormal results are
compared in absolute terms). Bounds claimed in the header: exp_nonpos <= 1, log <= 1,
log1p and log1p_01 <= 1.5, recip12 <= 1; the float32 helpers exp_nonpos_f, log1p_01_f,
recip12_f and log1p_f <= 1.5, log_f <= 1 float32 ulp (2^(e-24), at least 2^-149), on arguments
rounded to float32.

`python tests/test_math.py` prints the measured maxima per helper and variant.
"""
import math
import os

import mpmath
import numpy as np
import pytest

from cbce import _dispatch
from cbce._dispatch import kernels
from _stats import record

DPS = 40                      # 133 bits: the reference's own error is far below 2^-53 relative
BOUNDS = {"exp_nonpos": 1.0, "log": 1.0, "log1p": 1.5, "log1p_01": 1.5, "recip12": 1.0,
          # float32 helpers (float32 logit kernels): float32 ulps, arguments rounded to float32
          "exp_nonpos_f": 1.5, "log1p_01_f": 1.5, "recip12_f": 1.5,
          # float32 probability kernels (the loss)
          "log_f": 1.0, "log1p_f": 1.5}
FLOAT32 = {"exp_nonpos_f", "log1p_01_f", "recip12_f", "log_f", "log1p_f"}
SQRT2 = math.sqrt(2.0)
LN2 = math.log(2.0)


def _around(points, k=4):
    """Each point and its k nearest doubles on either side."""
    out = []
    for p in points:
        lo = hi = float(p)
        out.append(lo)
        for _ in range(k):
            lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
            out += [lo, hi]
    return out


def _grid(name):
    """~5e4 to 1e5 points of the helper's domain with its edge points (boundaries of the
    reduction intervals, of the normal and subnormal ranges, powers of two)."""
    rng = np.random.default_rng(20260)
    if name in FLOAT32:
        x = _grid(name[:-2])                     # the double grid, then rounded to float32
        lo = {"exp_nonpos_f": -104.0, "log1p_01_f": 0.0, "recip12_f": 1.0, "log_f": 0.0,
              "log1p_f": -1.0}[name]
        hi = {"exp_nonpos_f": 0.0, "log1p_01_f": 1.0, "recip12_f": 2.0, "log_f": 2.0 ** 127,
              "log1p_f": 1.0}[name]
        dense = {"exp_nonpos_f": np.concatenate([np.linspace(-104.0, 0.0, 40001),
                                                 -np.geomspace(1e-45, 1.0, 3000)]),
                 "log1p_01_f": np.geomspace(1e-45, 1.0, 6000),
                 "recip12_f": np.linspace(1.0, 2.0, 20001),
                 # every binade of float32, subnormals included, and near 1
                 "log_f": np.concatenate([np.geomspace(1e-45, 2.0 ** 127, 20000),
                                          1.0 + np.linspace(-0.3, 0.42, 20001)]),
                 "log1p_f": np.concatenate([np.linspace(-1.0, 1.0, 40001),
                                            np.geomspace(1e-45, 1.0, 6000),
                                            -np.geomspace(1e-45, 1.0, 6000),
                                            -1.0 + np.geomspace(6e-8, 0.5, 3000)])}[name]
        # k = round(x/ln2) switches, 2^-126 (-87.34) and 2^-149 (-103.28) results, the clamp
        edges = {"exp_nonpos_f": [-(k + 0.5) * LN2 for k in range(151)] + [-87.33654, -103.27893,
                                                                              -103.97208, -104.0, 0.0],
                 "log1p_01_f": [SQRT2 - 1.0, 0.0, 1.0, 2.0 ** -24, 1e-38],
                 "recip12_f": [1.0, 2.0, SQRT2, 1.5],
                 "log_f": [SQRT2 / 2, SQRT2, 1.0, 2.0, 2.0 ** -126, 2.0 ** -149, 0.5, 0.0],
                 "log1p_f": [0.0, -1.0, 1.0, SQRT2 - 1.0, SQRT2 / 2 - 1.0, -0.5, 2.0 ** -24,
                             -2.0 ** -25, 1e-38, -1e-38]}[name]
        e = np.array(edges, dtype=np.float32)
        for _ in range(3):
            e = np.concatenate([e, np.nextafter(e, np.float32(-np.inf)), np.nextafter(e, np.float32(np.inf))])
        x = x[np.abs(x) <= np.finfo(np.float32).max]          # (log's grid reaches 2^1023)
        x = np.concatenate([x.astype(np.float32), dense.astype(np.float32), e])
        return x[(x >= lo) & (x <= hi)].astype(np.float64)
    if name == "exp_nonpos":
        lo, hi = -746.0, 0.0
        uniform = np.linspace(lo, hi, 40001)
        tiny = -np.geomspace(5e-324, 1.0, 2000)
        # k = round(x / ln2) switches at (k + 1/2) ln2; 2^-1022 and 2^-1074 (half) lie at
        # -708.40 and -745.13; the clamp is at -746.
        switches = [-(k + 0.5) * LN2 for k in range(0, 1077, 7)]
        edges = _around([0.0, -708.3964185322641, -708.4, -745.1332191019411, -745.13, -746.0,
                         -1.0, -0.5, -LN2, -LN2 / 2] + switches, 3)
        x = np.concatenate([uniform, tiny, rng.uniform(lo, -700.0, 8000), edges])
        return np.clip(x, lo, hi)
    if name == "log":
        uniform = np.linspace(0.0, 2.0, 30001)
        binades = np.geomspace(5e-324, 2.0, 20000)             # subnormals and every binade
        big = np.geomspace(2.0, 2.0 ** 1023, 2000)             # the claim reaches 2^1023
        near1 = 1.0 + np.concatenate([-np.geomspace(1e-16, 0.3, 3000), np.geomspace(2.3e-16, 0.4, 3000)])
        pow2 = [2.0 ** e for e in range(-1074, 2)]
        edges = _around([SQRT2 / 2, SQRT2, 1.0, 2.0, 2.0 ** -1022, 5e-324, 0.5] + pow2[::9], 3)
        x = np.concatenate([uniform, binades, big, near1, rng.uniform(0.69, 1.42, 10000), edges])
        return x[(x >= 0.0) & (x <= 2.0 ** 1023)]
    if name == "log1p":
        uniform = np.linspace(-1.0, 1.0, 40001)
        tiny = np.geomspace(5e-324, 0.5, 6000)
        near_m1 = -1.0 + np.geomspace(1.2e-16, 0.5, 3000)      # u = 1 + t near 0
        edges = _around([0.0, -1.0, 1.0, SQRT2 - 1.0, SQRT2 / 2 - 1.0, -0.5, 2.0 ** -53, -2.0 ** -54,
                         2.0 ** -52, 1e-300, -1e-300], 4)
        x = np.concatenate([uniform, tiny, -tiny, near_m1, rng.uniform(-0.3, 0.42, 10000), edges])
        return x[(x >= -1.0) & (x <= 1.0)]
    if name == "log1p_01":
        x = _grid("log1p")
        return x[x >= 0.0]
    if name == "recip12":
        edges = _around([1.0, 2.0, SQRT2, 1.5, 17.0 / 12.0], 4)
        x = np.concatenate([np.linspace(1.0, 2.0, 60001), rng.uniform(1.0, 2.0, 20000), edges])
        return x[(x >= 1.0) & (x <= 2.0)]
    raise ValueError(name)


_EXACT = {"exp_nonpos": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p,
          "log1p_01": mpmath.log1p, "recip12": lambda u: 1 / u, "exp_nonpos_f": mpmath.exp,
          "log1p_01_f": mpmath.log1p, "recip12_f": lambda u: 1 / u, "log_f": mpmath.log,
          "log1p_f": mpmath.log1p}
_cache = {}


def _reference(name):
    """(grid, exact values in units of their ulp as a double-double hi + lo, log2 of those
    ulps); hi is +-inf where the exact value is. (In ulp units, so that a subnormal exact
    value keeps its low bits.)"""
    if name not in _cache:
        x = np.unique(_grid(name))
        hi, lo, ulp_exp = np.empty(x.size), np.zeros(x.size), np.empty(x.size, dtype=np.int64)
        # ulp(v) = 2^ulp_exp: 2^(e-53) for 2^(e-1) <= |v| < 2^e, at least 2^-1074 (float32:
        # 2^(e-24), at least 2^-149)
        digits, least = (24, -149) if name in FLOAT32 else (53, -1074)
        with mpmath.workdps(DPS):
            for i, v in enumerate(x):
                exact = mpmath.ninf if name == "log" and v == 0.0 else _EXACT[name](mpmath.mpf(float(v)))
                if mpmath.isinf(exact) or exact == 0:
                    hi[i], ulp_exp[i] = float(exact), least
                    continue
                ulp_exp[i] = max(int(mpmath.frexp(exact)[1]) - digits, least)
                scaled = mpmath.ldexp(exact, -int(ulp_exp[i]))
                hi[i] = float(scaled)
                lo[i] = float(scaled - mpmath.mpf(hi[i]))
        _cache[name] = (x, hi, lo, ulp_exp)
    return _cache[name]


def ulp_errors(variant, name):
    """(grid, errors in ulps of the exact value) of helper `name` on target `variant`."""
    x, hi, lo, ulp_exp = _reference(name)
    y = np.empty_like(x)
    kernels.math_eval(name, np.ascontiguousarray(x), y, variant)
    inf = np.isinf(hi)
    with np.errstate(invalid="ignore"):
        # y in ulp units is exact (a power-of-two scaling), and so is its difference from hi
        # (Sterbenz: they are within a few units of each other).
        err = np.abs((np.ldexp(y, -ulp_exp) - np.where(inf, 0.0, hi)) - lo)
    err[inf] = np.where(y[inf] == hi[inf], 0.0, np.inf)
    err[np.isnan(y)] = np.inf
    return x, err


def _variants():
    """Every target; only the forced one under CBCE_KERNEL (the default run covers the rest)."""
    usable = _dispatch.available()
    forced = os.environ.get("CBCE_KERNEL", "").strip().lower()
    params = []
    for v in usable:
        marks = ()
        if not usable[v]:
            marks = pytest.mark.skip(reason=f"{v} loops not built or not runnable on this CPU")
        elif forced and v != forced:
            marks = pytest.mark.skip(reason=f"CBCE_KERNEL={forced}: {v} is tested by the default run")
        params.append(pytest.param(v, id=v, marks=marks))
    return params


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("variant", _variants())
def test_helper_within_claimed_ulps(variant, name):
    """Every grid point (edges included) of the helper is within the header's claimed bound."""
    x, err = ulp_errors(variant, name)
    worst = int(np.argmax(err))
    record("math", variant=variant, helper=name, max_ulp=float(err[worst]), at=float(x[worst]),
           points=int(x.size), bound=BOUNDS[name])
    assert err[worst] <= BOUNDS[name], (
        f"{variant} {name}({x[worst]!r}) is {err[worst]:.3f} ulp off (bound {BOUNDS[name]})")


@pytest.mark.parametrize("variant", _variants())
def test_helper_special_values(variant):
    """NaN propagates through every helper; log(0) = log1p(-1) = -inf; exp below -746 is 0."""
    def ev(name, values):
        x = np.array(values, dtype=np.float64)
        out = np.empty_like(x)
        kernels.math_eval(name, x, out, variant)
        return out

    for name in BOUNDS:
        assert np.isnan(ev(name, [np.nan])[0]), name
    for f in ("log", "log_f"):
        assert ev(f, [0.0, -0.0]).tolist() == [-np.inf, -np.inf]
    for f in ("log1p", "log1p_f"):
        assert ev(f, [-1.0])[0] == -np.inf
    assert ev("exp_nonpos", [-746.5, -1e4, -1e300, -np.inf]).tolist() == [0.0] * 4
    assert ev("exp_nonpos_f", [-104.5, -1e4, -1e30, -np.inf]).tolist() == [0.0] * 4
    for f in ("exp_nonpos", "exp_nonpos_f"):
        assert ev(f, [0.0, -0.0]).tolist() == [1.0, 1.0]
    for f in ("log", "log_f"):
        assert ev(f, [1.0])[0] == 0.0
    for f in ("log1p", "log1p_01", "log1p_01_f", "log1p_f"):
        assert ev(f, [0.0])[0] == 0.0
    for f in ("recip12", "recip12_f"):
        assert ev(f, [1.0, 2.0]).tolist() == [1.0, 0.5]


def max_ulp_table():
    """{variant: {helper: (max ulp error, argument where it occurs, points)}}."""
    table = {}
    for variant, usable in _dispatch.available().items():
        if not usable:
            continue
        row = {}
        for name in BOUNDS:
            x, err = ulp_errors(variant, name)
            i = int(np.argmax(err))
            row[name] = (float(err[i]), float(x[i]), int(x.size))
        table[variant] = row
    return table


if __name__ == "__main__":
    for variant, row in max_ulp_table().items():
        for name, (err, at, n) in row.items():
            print(f"{variant:9s} {name:11s} max {err:.3f} ulp (bound {BOUNDS[name]}) at x={at!r}, {n} points")
