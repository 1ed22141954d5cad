"""The benchmark matrix: which cases run, and the inputs each one is timed on.

A case is one benchmark group (pytest-benchmark ``group`` = ``Case.id``): one operation on one set of
inputs, timed for cbce, every installed peer and one memory-roofline baseline. Seven axes
(docs/benchmarks.md, "What is measured"); their full product (~360 groups, ~2000 timings) takes about an hour on a 2-core machine, so the
default ``standard`` set keeps the N sweep for the headline cases and varies the other axes at
N = 10^7 only (see ``standard_cases``). ``--bench-set=full`` runs the
product, ``--bench-set=headline`` only speed targets 1-2
(docs/performance.md, "Speed targets").

Inputs are built here, outside the timed call, deterministic (fixed seed) and realistic: logits of
an imbalanced logistic model (~25 % positives), labels drawn from it, probabilities kept inside
[1e-6, 1 - 1e-6] so that every peer's clipping/clamping convention gives the same values and the
cross-check in conftest.py compares like with like.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

OPS = ("loss", "loss_grad", "grad_hess")
KINDS = ("logits", "probs")
DTYPES = ("float64", "float32")
WEIGHTS = ("unweighted", "weighted")  # weighted = per-element sample_weight + scalar pos_weight
LAYOUTS = ("contig", "strided", "mask2d")

SWEEP_N = (10, 10**3, 10**5, 10**7)
HUGE_N = 10**8
HEADLINE_N = 10**7
MASK_SHAPE = (2048, 2048)  # a segmentation mask; its N = 4_194_304 is fixed
QUICK_MAX_N = 1000         # --bench-quick caps every N here (and the mask at 32 x 32)
QUICK_MASK_SHAPE = (32, 32)

POS_WEIGHT = 3.0           # ~3 negatives per positive in the synthetic data
PROB_CLIP = 1e-6           # probabilities stay in [1e-6, 1 - 1e-6]: no peer clips or clamps them
SEED = 20_240_601


def n_cores() -> int:
    """Cores this process may run on (the 'all cores' thread count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _n_label(n: int) -> str:
    e = int(round(np.log10(n))) if n > 0 else 0
    return f"1e{e}" if 10**e == n else str(n)


@dataclass(frozen=True)
class Case:
    op: str       # "loss" (reduced loss only), "loss_grad" (fused loss + gradient), "grad_hess"
    kind: str     # "logits" | "probs"  (grad_hess: logits only, as in cbce's API)
    dtype: str    # "float64" | "float32"
    shape: tuple  # (N,) or MASK_SHAPE
    threads: int  # 1 or n_cores(); every implementation that can thread gets exactly this many
    weights: str  # "unweighted" | "weighted"
    layout: str   # "contig" | "strided" (every input a stride-2 view) | "mask2d" (2-D C-contiguous)

    @property
    def n(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_label(self) -> str:
        if self.layout == "mask2d":
            return "x".join(map(str, self.shape))
        return _n_label(self.n)

    @property
    def id(self) -> str:
        """Readable, -k friendly, also the pytest-benchmark group name."""
        return (f"{self.op}-{self.kind}-{self.dtype}-N{self.n_label}-t{self.threads}"
                f"-{self.weights}-{self.layout}")

    @property
    def data_key(self) -> tuple:
        """Cases with equal keys share their inputs (only op and threads differ)."""
        return (self.kind, self.dtype, self.shape, self.weights, self.layout)

    @property
    def writes_grad(self) -> bool:
        return self.op != "loss"

    def info(self) -> dict:
        """The case's axes as JSON-able values, for pytest-benchmark extra_info and report.py."""
        return {"case": self.id, "op": self.op, "kind": self.kind, "dtype": self.dtype,
                "n": self.n, "shape": list(self.shape), "threads": self.threads,
                "threads_all": self.threads == n_cores() and self.threads > 1,
                "weights": self.weights, "layout": self.layout}


def _case(op, kind, dtype, n, threads, weights="unweighted", layout="contig") -> Case:
    shape = MASK_SHAPE if layout == "mask2d" else (int(n),)
    return Case(op, kind, dtype, shape, threads, weights, layout)


def _thread_counts() -> tuple:
    return tuple(sorted({1, n_cores()}))


def _op_kinds():
    return [(op, kind) for op in OPS for kind in KINDS if not (op == "grad_hess" and kind == "probs")]


def headline_cases() -> list:
    """Speed targets 1-2: fused loss+grad from logits, N = 10^7, both dtypes, 1 and all threads."""
    return [_case("loss_grad", "logits", dt, HEADLINE_N, t) for dt in DTYPES for t in _thread_counts()]


def standard_cases(sweep_n=SWEEP_N) -> list:
    """The default matrix (52 groups, ~300 timings; ~9 min on 2 idle cores with every peer).

    1. N sweep (10 ... 10^7): fused loss+grad from logits, both dtypes; loss only from logits, float64
       (speed targets 1, 2, 4, 5, 6).
    2. At N = 10^7: every operation x input kind x dtype (targets 3, 4; grad_hess is logits only).
    3. At N = 10^7: sample_weight + pos_weight, fused loss+grad, both kinds; both dtypes at 1 thread
       (target 3), float64 at all cores.
    4. Layouts, float64, fused loss+grad from logits: a stride-2 view at N = 10^7, the 2048 x 2048
       mask with and without per-pixel weights.
    Every group at 1 thread and at all cores, except as noted in 3.
    """
    T = _thread_counts()
    out = []
    for dt in DTYPES:
        out += [_case("loss_grad", "logits", dt, n, t) for n in sweep_n for t in T]
    out += [_case("loss", "logits", "float64", n, t) for n in sweep_n for t in T]
    out += [_case(op, kind, dt, HEADLINE_N, t)
            for op, kind in _op_kinds() for dt in DTYPES for t in T]
    out += [_case("loss_grad", kind, dt, HEADLINE_N, t, "weighted")
            for kind in KINDS for dt in DTYPES for t in T if t == 1 or dt == "float64"]
    out += [_case("loss_grad", "logits", "float64", HEADLINE_N, t, "unweighted", "strided") for t in T]
    out += [_case("loss_grad", "logits", "float64", 0, t, w, "mask2d") for w in WEIGHTS for t in T]
    return out


def full_cases(sweep_n=SWEEP_N) -> list:
    """The full product of the seven axes (~360 groups; about an hour on 2 cores)."""
    out = []
    for op, kind in _op_kinds():
        for dt in DTYPES:
            for t in _thread_counts():
                for w in WEIGHTS:
                    for layout in ("contig", "strided"):
                        out += [_case(op, kind, dt, n, t, w, layout) for n in sweep_n]
                    out.append(_case(op, kind, dt, 0, t, w, "mask2d"))
    return out


def select_cases(bench_set="standard", sweep_n=None, huge=False, quick=False, ops=None) -> list:
    """The cases of one run, deduplicated, in a data-sharing-friendly order."""
    sweep = tuple(sweep_n) if sweep_n else SWEEP_N
    if huge and HUGE_N not in sweep:
        sweep = sweep + (HUGE_N,)
    if bench_set == "headline":
        cases = headline_cases()
        if huge:
            cases += [replace(c, shape=(HUGE_N,)) for c in cases]
    elif bench_set == "full":
        cases = full_cases(sweep)
    elif bench_set == "standard":
        cases = standard_cases(sweep)
    else:
        raise ValueError(f"--bench-set must be one of headline, standard, full; got {bench_set!r}")
    if quick:
        cases = [replace(c, shape=QUICK_MASK_SHAPE) if c.layout == "mask2d"
                 else replace(c, shape=(min(c.n, QUICK_MAX_N),)) for c in cases]
    if ops is not None:
        cases = [c for c in cases if c.op in ops]
    seen, unique = set(), []
    for c in cases:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    # Cases that share inputs run back to back (the input cache holds one set); N ascending.
    order = {k: i for i, k in enumerate(dict.fromkeys(c.data_key for c in unique))}
    return sorted(unique, key=lambda c: (c.layout != "contig", c.n, order[c.data_key], c.op, c.threads))


# --------------------------------------------------------------------------------------------------
# Inputs

@dataclass
class Data:
    """Inputs of one case. ``y``/``x``/``w`` have the case's shape and layout and the case's dtype
    (y_true as floats of the same dtype: what sklearn's and PyTorch's kernels require)."""
    y: np.ndarray
    x: np.ndarray
    w: np.ndarray | None
    pw: float | None
    key: tuple

    @property
    def n(self) -> int:
        return self.x.size


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def _lay_out(a: np.ndarray, shape: tuple, layout: str) -> np.ndarray:
    if layout == "strided":
        # A column of an (N, 2) array, like predict_proba(X)[:, 1]: stride 2 * itemsize, no copy.
        base = np.empty((a.size, 2), dtype=a.dtype)
        base[:, 0] = a
        base[:, 1] = 0
        return base[:, 0]
    return a.reshape(shape)


def make_data(case: Case) -> Data:
    """Deterministic inputs for ``case`` (the same for every op and thread count)."""
    kind, dtype, shape, weights, layout = case.data_key
    n = int(np.prod(shape))
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal(n) * 2.0 - 1.5  # logits of a logistic model, ~25 % positives
    y = (rng.random(n) < _sigmoid(z)).astype(dtype)
    if n >= 2:  # both classes present (sklearn's log_loss insists at tiny N)
        y[0], y[1] = 0, 1
    x = z if kind == "logits" else np.clip(_sigmoid(z), PROB_CLIP, 1 - PROB_CLIP)
    x = x.astype(dtype)
    w = rng.uniform(0.5, 2.0, n).astype(dtype) if weights == "weighted" else None
    return Data(y=_lay_out(y, shape, layout), x=_lay_out(x, shape, layout),
                w=None if w is None else _lay_out(w, shape, layout),
                pw=POS_WEIGHT if weights == "weighted" else None, key=case.data_key)
