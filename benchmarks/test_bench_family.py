"""The loss family (docs/focal-multiclass.md): softmax cross-entropy at (10^6 x 10) and (10^5 x 1000), focal BCE at
N = 10^7, cbce against what a user would pick instead, on the same inputs, in the same group.

  cross-entropy: PyTorch F.cross_entropy (+ autograd), scikit-learn HalfMultinomialLoss (its
                 n_threads) and log_loss (on scipy's softmax: it takes probabilities), NumPy by hand
                 (max-shifted log-sum-exp), a memory pass (np.add roofline)
  focal BCE:     torchvision's sigmoid_focal_loss written in torch ops (torchvision is optional and
                 not needed; its 4 lines, torchvision/ops/focal_loss.py) + autograd, NumPy by hand

The conventions of conftest.py: the group is the case id; extra_info carries the case's axes,
impl, label, role, load and other_load; each implementation is called once untimed and checked
against a float64 NumPy reference before it is timed; threads are matched (cbce n_threads,
torch.set_num_threads, sklearn n_threads; NumPy and log_loss run on one thread, so only in t1
groups); --bench-quick caps the sizes (each case once with --benchmark-disable), --bench-impl
filters by the names of peers.IMPLS. report.py does not tabulate these ops (yet): read them with
pytest-benchmark's own table, e.g. ``pytest benchmarks/test_bench_family.py --benchmark-group-by=group``.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import pytest

import cases
import peers
from conftest import _busy_cpu_s, _selected_impls

GAMMA, ALPHA = 2.0, 0.25           # torchvision's defaults
CE_SHAPES = ((10**6, 10), (10**5, 1000))
QUICK_CE_SHAPES = ((100, 10), (2, 1000))
FOCAL_N = cases.HEADLINE_N
SEED = cases.SEED


@dataclass(frozen=True)
class FamilyCase:
    op: str        # "ce_loss" | "ce_loss_grad" | "focal_loss_grad" | "focal_grad_hess"
    dtype: str
    shape: tuple   # (samples, classes) for cross-entropy, (N,) for focal
    threads: int

    @property
    def n(self) -> int:
        return int(np.prod(self.shape))

    @property
    def id(self) -> str:
        size = "x".join(cases._n_label(s) for s in self.shape)
        return f"{self.op}-{self.dtype}-N{size}-t{self.threads}"

    def info(self) -> dict:
        return {"case": self.id, "op": self.op, "kind": "indices" if self.op.startswith("ce") else "logits",
                "dtype": self.dtype, "n": self.n, "shape": list(self.shape), "threads": self.threads,
                "threads_all": self.threads == cases.n_cores() and self.threads > 1,
                "weights": "unweighted", "layout": "contig"}


def _family_cases(quick: bool) -> list:
    T = sorted({1, cases.n_cores()})
    out = []
    for shape in (QUICK_CE_SHAPES if quick else CE_SHAPES):
        out += [FamilyCase(op, "float64", shape, t) for op in ("ce_loss_grad", "ce_loss") for t in T]
        out += [FamilyCase("ce_loss_grad", "float32", shape, t) for t in T]
    n = cases.QUICK_MAX_N if quick else FOCAL_N
    out += [FamilyCase(op, dt, (n,), t) for op in ("focal_loss_grad", "focal_grad_hess")
            for dt in cases.DTYPES for t in T if op == "focal_loss_grad" or dt == "float64"]
    return out


# --------------------------------------------------------------------------------------------------
# Inputs (untimed, deterministic), kept while consecutive cases share them.

_DATA = {}


def _data(case: FamilyCase):
    key = (case.op[:2], case.dtype, case.shape)
    if key not in _DATA:
        _DATA.clear()
        rng = np.random.default_rng(SEED)
        if case.op.startswith("ce"):
            x = rng.standard_normal(case.shape) * 2.0
            # Labels drawn from the model itself (Gumbel-max): realistic, moderate losses.
            y = np.argmax(x + rng.gumbel(size=case.shape), axis=1).astype(np.int64)
            _DATA[key] = (y, x.astype(case.dtype))
        else:
            z = rng.standard_normal(case.n) * 2.0 - 1.5
            y = (rng.random(case.n) < 1 / (1 + np.exp(-z))).astype(case.dtype)
            _DATA[key] = (y, z.astype(case.dtype))
    return _DATA[key]


# --------------------------------------------------------------------------------------------------
# NumPy by hand (also the float64 reference of the untimed check)

def np_ce(y, x, grad=True):
    """Mean softmax cross-entropy of class indices and its gradient, max-shifted."""
    z = x - x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    rows = np.arange(x.shape[0])
    loss = float(np.mean(lse - z[rows, y]))
    if not grad:
        return loss
    p = np.exp(z - lse[:, None])
    p[rows, y] -= 1.0
    p /= x.shape[0]
    return loss, p


def np_focal(y, x, hess=False):
    """Mean focal loss (torchvision's formula) and its gradient (and hessian) by hand."""
    p = 1 / (1 + np.exp(-x))
    ce = np.logaddexp(0, x) - x * y
    q = y * (1 - p) + (1 - y) * p                      # 1 - p_t
    at = ALPHA * y + (1 - ALPHA) * (1 - y)
    s2 = p * (1 - p)
    dq = (1 - 2 * y) * s2
    n = x.size
    grad = at * (q**GAMMA * (p - y) + GAMMA * q ** (GAMMA - 1) * dq * ce) / n
    if not hess:
        return float(np.mean(at * q**GAMMA * ce)), grad
    d2q = dq * (1 - 2 * p)
    h = at * (GAMMA * (GAMMA - 1) * q ** (GAMMA - 2) * dq**2 * ce + GAMMA * q ** (GAMMA - 1) * d2q * ce
              + 2 * GAMMA * q ** (GAMMA - 1) * dq * (p - y) + q**GAMMA * s2) / n
    return grad, h


def _reference(case, y, x):
    x64, y64 = x.astype(np.float64), y if case.op.startswith("ce") else y.astype(np.float64)
    if case.op == "ce_loss":
        return {"loss": np_ce(y64, x64, grad=False)}
    if case.op == "ce_loss_grad":
        loss, g = np_ce(y64, x64)
        return {"loss": loss, "grad": g}
    if case.op == "focal_loss_grad":
        loss, g = np_focal(y64, x64)
        return {"loss": loss, "grad": g}
    g, h = np_focal(y64, x64, hess=True)
    return {"grad": g, "hess": h}


# --------------------------------------------------------------------------------------------------
# Implementations: (name, label, role, supports(case), prepare(case, y, x) -> (fn, canon))

def _canon(op, scale=1.0):
    if op == "ce_loss":
        return lambda r: {"loss": float(r)}
    if op == "focal_grad_hess":
        return lambda r: {"grad": np.asarray(r[0]) * scale, "hess": np.asarray(r[1]) * scale}
    return lambda r: {"loss": float(r[0]), "grad": np.asarray(r[1]) * scale}


@contextmanager
def _cbce(case, y, x):
    cbce = peers._import_cbce()
    t = case.threads
    if case.op == "ce_loss":
        fn = partial(cbce.cross_entropy, y, x, n_threads=t)
    elif case.op == "ce_loss_grad":
        fn = partial(cbce.cross_entropy_loss_and_grad, y, x, out=np.empty_like(x), n_threads=t)
    elif case.op == "focal_loss_grad":
        fn = partial(cbce.bce_loss_and_grad, y, x, from_logits=True, gamma=GAMMA, alpha=ALPHA,
                     out=np.empty_like(x), n_threads=t)
    else:
        fn = partial(cbce.bce_grad_hess, y, x, gamma=GAMMA, alpha=ALPHA, grad_out=np.empty_like(x),
                     hess_out=np.empty_like(x), n_threads=t)
    yield fn, _canon(case.op), {"threads_used": t}


@contextmanager
def _numpy(case, y, x):
    if case.op == "ce_loss":
        fn = partial(np_ce, y, x, grad=False)
    elif case.op == "ce_loss_grad":
        fn = partial(np_ce, y, x)
    else:
        fn = partial(np_focal, y, x, hess=case.op == "focal_grad_hess")
    yield fn, _canon(case.op), {"threads_used": 1}


def _torch_focal(torch, inputs, targets):
    """torchvision.ops.sigmoid_focal_loss, reduction="mean" (torchvision/ops/focal_loss.py)."""
    F = torch.nn.functional
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** GAMMA)
    alpha_t = ALPHA * targets + (1 - ALPHA) * (1 - targets)
    return (alpha_t * loss).mean()


@contextmanager
def _torch(case, y, x):
    import torch
    import torch.nn.functional as F

    old = torch.get_num_threads()
    torch.set_num_threads(case.threads)
    try:
        yt, xt = torch.from_numpy(y), torch.from_numpy(x)
        if case.op == "ce_loss":
            def fn():
                with torch.no_grad():
                    return F.cross_entropy(xt, yt).item()
        elif case.op == "ce_loss_grad":
            xg = xt.detach().requires_grad_(True)

            def fn():
                loss = F.cross_entropy(xg, yt)
                (g,) = torch.autograd.grad(loss, xg)
                return loss.item(), g
        elif case.op == "focal_loss_grad":
            xg = xt.detach().requires_grad_(True)

            def fn():
                loss = _torch_focal(torch, xg, yt)
                (g,) = torch.autograd.grad(loss, xg)
                return loss.item(), g
        else:
            xg = xt.detach().requires_grad_(True)

            def fn():  # the hessian diagonal of an element-wise loss: grad of sum(grad)
                (g,) = torch.autograd.grad(_torch_focal(torch, xg, yt), xg, create_graph=True)
                (h,) = torch.autograd.grad(g.sum(), xg)
                return g.detach(), h
        yield fn, _canon(case.op), {"threads_used": torch.get_num_threads()}
    finally:
        torch.set_num_threads(old)


@contextmanager
def _sklearn_hml(case, y, x):
    from sklearn._loss.loss import HalfMultinomialLoss  # private module, stable since sklearn 1.1

    n, C = x.shape
    hml, t, yf = HalfMultinomialLoss(n_classes=C), case.threads, y.astype(x.dtype)
    lo, go = np.empty(n, x.dtype), np.empty_like(x)
    if case.op == "ce_loss":
        def fn():
            hml.loss(yf, x, None, loss_out=lo, n_threads=t)
            return float(lo.mean())
    else:
        def fn():
            hml.loss_gradient(yf, x, None, loss_out=lo, gradient_out=go, n_threads=t)
            return float(lo.mean()), go  # per-sample gradient: not scaled by 1/n (sklearn's API)
    yield fn, _canon(case.op, 1.0 / n), {"threads_used": t}


@contextmanager
def _sklearn_log_loss(case, y, x):
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    labels = np.arange(x.shape[1])
    yield (lambda: log_loss(y, softmax(x, axis=1), labels=labels)), _canon("ce_loss"), {"threads_used": 1}


@contextmanager
def _roofline_add(case, y, x):
    g = np.empty_like(x)
    yield partial(np.add, x, x, out=g), None, {"threads_used": 1}


IMPLS = {  # name: (label, role, supports, prepare); names are peers.IMPLS' (for --bench-impl)
    "cbce": ("cbce", "cbce", lambda c: True, _cbce),
    "numpy": ("NumPy by hand", "peer", lambda c: c.threads == 1, _numpy),
    "sklearn": ("sklearn HalfMultinomialLoss", "peer", lambda c: c.op.startswith("ce"), _sklearn_hml),
    "sklearn_log_loss": ("sklearn log_loss(softmax)", "peer",
                         lambda c: c.op == "ce_loss" and c.threads == 1, _sklearn_log_loss),
    "torch": ("PyTorch", "peer", lambda c: True, _torch),
    "roofline_add": ("np.add roofline", "roofline", lambda c: c.op != "ce_loss", _roofline_add),
}
REQUIRES = {"sklearn": "sklearn", "sklearn_log_loss": "sklearn", "torch": "torch"}


def pytest_generate_tests(metafunc):
    if not {"fcase", "fimpl"} <= set(metafunc.fixturenames):
        return
    cfg = metafunc.config
    wanted = {i.name for i in _selected_impls(cfg)}
    pairs = [(c, name) for c in _family_cases(cfg.getoption("--bench-quick"))
             for name, (_, _, supports, _) in IMPLS.items() if name in wanted and supports(c)]
    metafunc.parametrize(("fcase", "fimpl"), pairs, ids=[f"{c.id}-{i}" for c, i in pairs])


def _check(case, name, got, ref):
    rtol = 1e-4 if case.dtype == "float32" else 1e-9
    for key, want in ref.items():
        have = got.get(key)
        if have is None:
            continue
        if key == "loss":
            ok = abs(have - want) <= rtol * abs(want)
        else:
            have = np.asarray(have, np.float64)
            ok = have.shape == want.shape and bool(np.all(
                np.abs(have - want) <= rtol * (np.abs(want) + 1e-3 * np.abs(want).max())))
        if not ok:
            pytest.fail(f"{name} disagrees with the float64 reference on {case.id}: {key}",
                        pytrace=False)


def test_family(benchmark, request, fcase, fimpl):
    """One call of the implementation on the case's inputs, timed (group = case id)."""
    label, role, _, prepare = IMPLS[fimpl]
    req = REQUIRES.get(fimpl)
    if req is not None:
        reason = peers.missing_requirement(peers.IMPL_BY_NAME[fimpl])
        if reason:
            pytest.skip(reason)
    y, x = _data(fcase)
    with prepare(fcase, y, x) as (fn, canon, info):
        result = fn()  # untimed warm-up and check
        if canon is not None and not request.config.getoption("--bench-no-check"):
            if fimpl == "torch":
                result = tuple(v.numpy() if hasattr(v, "numpy") else v for v in result) \
                    if isinstance(result, tuple) else result
            _check(fcase, fimpl, canon(result), _reference(fcase, y, x))
        del result
        benchmark.group = fcase.id
        benchmark.extra_info.update({**fcase.info(), "impl": fimpl, "label": label, "role": role,
                                     "loadavg_1m": os.getloadavg()[0], **info})
        wall0, busy0, own0 = time.perf_counter(), _busy_cpu_s(), sum(os.times()[:2])
        benchmark(fn)
        wall, busy, own = time.perf_counter() - wall0, _busy_cpu_s(), sum(os.times()[:2]) - own0
        if busy is not None and busy0 is not None and wall > 0:
            benchmark.extra_info["other_load"] = round(max(0.0, (busy - busy0 - own) / wall), 3)
