"""What is timed: cbce, the peers a user would pick instead of it, and the memory-roofline baselines.

Every implementation is an ``Impl``; its ``prepare(case, data)`` is a context manager that builds
everything outside the timed region (output buffers, tensors, thread settings, JIT warm-up happens
in conftest's untimed first call) and yields a ``Prepared``: the zero-argument callable that
pytest-benchmark times, and a ``canon`` function that maps its result onto cbce's conventions
(reduced loss = mean over N of the weighted per-element loss; grad/hess = derivatives of that mean)
so conftest can check every implementation against one float64 reference before timing it.

Fairness rules (docs/benchmarks.md, "How to read the numbers"):
- Each implementation gets what its API takes natively: a preallocated output where it accepts one
  (cbce ``out=``, sklearn ``*_out=``, ``np.add(out=)``); work its API forces on the user is timed
  (``np.ascontiguousarray`` of a strided view for sklearn, the pos_weight folding below).
- Threads are matched: sklearn ``n_threads``, ``torch.set_num_threads``, ``numba.set_num_threads``,
  BLAS via threadpoolctl for ``np.dot``. NumPy's ufuncs and ``log_loss`` are single-threaded: that
  is what their users get.
- pos_weight has no sklearn equivalent: it is folded into sample_weight, w * (1 + (pw - 1) * y),
  inside the timed call. That is exact for the 0/1 labels of the benchmark data.
"""

from __future__ import annotations

import importlib
import importlib.util
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from cases import Case, Data, n_cores

EPS = 1e-7  # Keras' epsilon: the clip a user applies to probabilities by hand


@dataclass
class Prepared:
    fn: Callable[[], object]                      # the timed call
    canon: Callable[[object, Callable], dict] | None = None   # (result, sampler) -> {"loss", "grad", "hess"}
    info: dict = field(default_factory=dict)      # implementation facts for extra_info


@dataclass(frozen=True)
class Impl:
    name: str        # token in test ids and JSON (extra_info["impl"])
    label: str       # column header in RESULTS.md
    role: str        # "cbce" | "peer" | "roofline"
    requires: str | None
    supports: Callable[[Case], bool]
    prepare: Callable[[Case, Data], object]
    install: str = ""


# --------------------------------------------------------------------------------------------------
# NumPy written by hand (also the float64 reference below, and the memory benchmark's peer)

def _sigmoid_from(x, e):
    """sigma(x) from e = exp(-|x|), overflow-free (the exp is shared with the loss)."""
    return np.where(x >= 0, 1, e) / (1 + e)


def np_loss_logits(y, x, w=None, pw=None):
    sp = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # softplus(x); softplus(-x) = sp - x
    if w is None:
        return float(np.mean(sp - x * y))
    return float(np.mean(w * ((1 - y) * sp + pw * y * (sp - x))))


def np_loss_grad_logits(y, x, w=None, pw=None):
    e = np.exp(-np.abs(x))
    sp = np.maximum(x, 0) + np.log1p(e)
    s = _sigmoid_from(x, e)
    if w is None:
        return float(np.mean(sp - x * y)), (s - y) / x.size
    loss = float(np.mean(w * ((1 - y) * sp + pw * y * (sp - x))))
    return loss, w * ((1 - y) * s - pw * y * (1 - s)) / x.size


def np_loss_probs(y, x, w=None, pw=None):
    p = np.clip(x, EPS, 1 - EPS)
    if w is None:
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
    return float(-np.mean(w * (pw * y * np.log(p) + (1 - y) * np.log1p(-p))))


def np_loss_grad_probs(y, x, w=None, pw=None):
    p = np.clip(x, EPS, 1 - EPS)
    if w is None:
        loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
        return loss, (p - y) / (p * (1 - p)) / x.size
    loss = float(-np.mean(w * (pw * y * np.log(p) + (1 - y) * np.log1p(-p))))
    return loss, w * ((1 - y) * p - pw * y * (1 - p)) / (p * (1 - p)) / x.size


def np_grad_hess_logits(y, x, w=None, pw=None):
    s = _sigmoid_from(x, np.exp(-np.abs(x)))
    if w is None:
        return (s - y) / x.size, s * (1 - s) / x.size
    return (w * ((1 - y) * s - pw * y * (1 - s)) / x.size,
            w * (pw * y + 1 - y) * s * (1 - s) / x.size)


_NP = {("loss", "logits"): np_loss_logits, ("loss", "probs"): np_loss_probs,
       ("loss_grad", "logits"): np_loss_grad_logits, ("loss_grad", "probs"): np_loss_grad_probs,
       ("grad_hess", "logits"): np_grad_hess_logits}


def _canon(op: str, grad_scale: float = 1.0) -> Callable:
    """Map (loss) / (loss, grad) / (grad, hess) results onto {"loss", "grad", "hess"}."""
    if op == "loss":
        return lambda r, s: {"loss": float(r)}
    if op == "loss_grad":
        return lambda r, s: {"loss": float(r[0]), "grad": s(r[1]) * grad_scale}
    return lambda r, s: {"grad": s(r[0]) * grad_scale, "hess": s(r[1]) * grad_scale}


@contextmanager
def _numpy(case, data):
    f = _NP[case.op, case.kind]
    fn = partial(f, data.y, data.x) if data.w is None else partial(f, data.y, data.x, data.w, data.pw)
    yield Prepared(fn, _canon(case.op), {"threads_used": 1})


def reference(case: Case, data: Data, sample: Callable, chunk: int = 1 << 22) -> dict:
    """float64 reference: the mean loss (chunked, all elements) and grad/hess at the sampled ones."""
    def terms(y, x, w, pw):
        y, x = y.astype(np.float64), x.astype(np.float64)
        w = 1.0 if w is None else w.astype(np.float64)
        pw = 1.0 if pw is None else pw
        if case.kind == "logits":
            e = np.exp(-np.abs(x))
            sp, spm = np.maximum(x, 0) + np.log1p(e), np.maximum(-x, 0) + np.log1p(e)
            s, sm = np.where(x >= 0, 1, e) / (1 + e), np.where(x < 0, 1, e) / (1 + e)
            return (w * ((1 - y) * sp + pw * y * spm), w * ((1 - y) * s - pw * y * sm),
                    w * (pw * y + 1 - y) * s * sm)
        loss = -w * (pw * y * np.log(x) + (1 - y) * np.log1p(-x))
        return loss, w * ((1 - y) * x - pw * y * (1 - x)) / (x * (1 - x)), None

    flat = lambda a: None if a is None else a.reshape(-1)  # noqa: E731 (views for our layouts)
    y, x, w = flat(data.y), flat(data.x), flat(data.w)
    n = x.size
    total = 0.0
    for i in range(0, n, chunk):
        sl = slice(i, i + chunk)
        total += float(np.sum(terms(y[sl], x[sl], None if w is None else w[sl], data.pw)[0]))
    _, g, h = terms(sample(y), sample(x), None if w is None else sample(w), data.pw)
    ref = {"loss": total / n if n else float("nan"), "grad": g / n}
    if case.op == "grad_hess":
        ref["hess"] = h / n
        del ref["loss"]
    elif case.op == "loss":
        del ref["grad"]
    return ref


# --------------------------------------------------------------------------------------------------
# cbce

def _import_cbce():
    try:
        return importlib.import_module("cbce")
    except ImportError as exc:
        raise ImportError(
            f"cbce is not importable ({exc}). Install it (`pip install .`) and run the suite as "
            "`pytest benchmarks` from the repository root, not `python -m pytest`, which would put "
            "the un-built source folder cbce/ on sys.path.") from exc


@contextmanager
def _cbce(case, data, auto=False):
    cbce = _import_cbce()
    kw = {}
    if case.kind == "logits" and case.op != "grad_hess":  # bce_grad_hess always takes logits
        kw["from_logits"] = True
    if data.w is not None:
        kw.update(sample_weight=data.w, pos_weight=data.pw)
    if not auto:
        kw["n_threads"] = case.threads
    y, x = data.y, data.x
    if case.op == "loss":
        fn = partial(cbce.bce, y, x, **kw)
    elif case.op == "loss_grad":
        fn = partial(cbce.bce_loss_and_grad, y, x, out=np.empty(x.shape, x.dtype), **kw)
    else:
        fn = partial(cbce.bce_grad_hess, y, x, grad_out=np.empty(x.shape, x.dtype),
                     hess_out=np.empty(x.shape, x.dtype), **kw)
    yield Prepared(fn, _canon(case.op), {"threads_used": "default (None)" if auto else case.threads})


# --------------------------------------------------------------------------------------------------
# scikit-learn

def _flat_arg(a):
    """A callable giving the 1-D C-contiguous array sklearn's kernels require: a view prepared once
    when ``a`` is contiguous; for a strided view the copy is made in the timed call (the user must)."""
    if a is None:
        return lambda: None
    if a.flags.c_contiguous:
        v = a.reshape(-1)
        return lambda: v
    return lambda: np.ascontiguousarray(a).reshape(-1)


def _sample_weight_arg(data):
    """sample_weight with pos_weight folded in (see module docstring), built in the timed call."""
    if data.w is None:
        return lambda: None
    y, w, pw = _flat_arg(data.y), _flat_arg(data.w), data.pw
    return lambda: w() * (1 + (pw - 1) * y())


@contextmanager
def _sklearn_hbl(case, data):
    from sklearn._loss.loss import HalfBinomialLoss  # private module, stable since sklearn 1.1

    hbl, n, t, dt = HalfBinomialLoss(), data.n, case.threads, data.x.dtype
    y, x, sw = _flat_arg(data.y), _flat_arg(data.x), _sample_weight_arg(data)
    lo, go, ho = np.empty(n, dt), np.empty(n, dt), np.empty(n, dt)
    if case.op == "loss":
        def fn():
            hbl.loss(y(), x(), sw(), loss_out=lo, n_threads=t)
            return float(lo.mean())
    elif case.op == "loss_grad":
        def fn():
            hbl.loss_gradient(y(), x(), sw(), loss_out=lo, gradient_out=go, n_threads=t)
            return float(lo.mean()), go  # per-element gradient: not scaled by 1/N (sklearn's API)
    else:
        def fn():
            return hbl.gradient_hessian(y(), x(), sw(), gradient_out=go, hessian_out=ho, n_threads=t)
    yield Prepared(fn, _canon(case.op, grad_scale=1.0 / n), {"threads_used": t})


@contextmanager
def _sklearn_log_loss(case, data):
    """Single-threaded (no n_threads) and ~100x slower than the rest: 1-thread groups only."""
    from sklearn.metrics import log_loss

    y, x, sw = data.y.reshape(-1), data.x.reshape(-1), _sample_weight_arg(data)

    def fn():
        return log_loss(y, x, sample_weight=sw(), labels=[0, 1])

    def canon(r, s):  # log_loss normalises by sum(sample_weight), cbce's "mean" by N
        return {"loss": r if data.w is None else r * float(np.sum(sw(), dtype=np.float64)) / data.n}

    yield Prepared(fn, canon, {"threads_used": 1})


# --------------------------------------------------------------------------------------------------
# PyTorch (CPU)

@contextmanager
def _torch(case, data):
    import torch
    import torch.nn.functional as F

    old = torch.get_num_threads()
    torch.set_num_threads(case.threads)
    try:
        yt, xt = torch.from_numpy(data.y), torch.from_numpy(data.x)  # zero-copy, strides kept
        wt = None if data.w is None else torch.from_numpy(data.w)
        if case.kind == "logits":
            kw = {} if wt is None else {"weight": wt,
                                         "pos_weight": torch.tensor(data.pw, dtype=xt.dtype)}
            loss_of = lambda x: F.binary_cross_entropy_with_logits(x, yt, **kw)  # noqa: E731
        elif wt is None:
            loss_of = lambda x: F.binary_cross_entropy(x, yt)  # noqa: E731
        else:  # no pos_weight for probabilities in PyTorch: folded into weight, as for sklearn
            pw = data.pw
            loss_of = lambda x: F.binary_cross_entropy(x, yt, weight=wt * (1 + (pw - 1) * yt))  # noqa: E731

        if case.op == "loss":
            def fn():
                with torch.no_grad():
                    return loss_of(xt).item()
            canon = _canon("loss")
        else:
            xg = xt.detach().requires_grad_(True)

            def fn():
                loss = loss_of(xg)
                (g,) = torch.autograd.grad(loss, xg)
                return loss.item(), g
            canon = lambda r, s: {"loss": r[0], "grad": s(r[1].numpy())}  # noqa: E731
        yield Prepared(fn, canon, {"threads_used": torch.get_num_threads(),
                                   "torch_mode": "forward" if case.op == "loss" else "forward+backward"})
    finally:
        torch.set_num_threads(old)


# --------------------------------------------------------------------------------------------------
# Numba prange

@contextmanager
def _numba(case, data):
    import numba

    import numba_peer as K

    old = numba.get_num_threads()
    numba.set_num_threads(case.threads)
    try:
        flat = lambda a: a if a.ndim == 1 else a.reshape(-1)  # noqa: E731 (mask: a view)
        y, x, n, dt = flat(data.y), flat(data.x), data.n, data.x.dtype
        args = (y, x) if data.w is None else (y, x, flat(data.w), data.pw)
        sfx = "" if data.w is None else "_w"
        if case.op == "loss":
            fn = partial(getattr(K, f"loss_{case.kind}{sfx}"), *args)
        elif case.op == "loss_grad":
            kernel, g = getattr(K, f"loss_grad_{case.kind}{sfx}"), np.empty(n, dt)

            def fn():
                return kernel(*args, g), g
        else:
            kernel, g, h = getattr(K, f"grad_hess_logits{sfx}"), np.empty(n, dt), np.empty(n, dt)

            def fn():
                kernel(*args, g, h)
                return g, h
        yield Prepared(fn, _canon(case.op), {"threads_used": case.threads})
    finally:
        numba.set_num_threads(old)


# --------------------------------------------------------------------------------------------------
# Roofline baselines: one memory pass over the same arrays

@contextmanager
def _roofline_add(case, data):
    """np.add(x, y, out=g): reads the two inputs, writes one output, like the fused loss+grad."""
    g = np.empty(data.x.shape, data.x.dtype)
    yield Prepared(partial(np.add, data.x, data.y, out=g), None, {"threads_used": 1})


@contextmanager
def _roofline_dot(case, data):
    """np.dot(x, y): a read-only pass over both inputs, like the loss alone. BLAS threads = case's."""
    flat = lambda a: a if a.ndim == 1 else a.reshape(-1)  # noqa: E731 (2-D np.dot is a matmul)
    try:
        from threadpoolctl import threadpool_limits
        limits, blas = threadpool_limits(limits=case.threads, user_api="blas"), case.threads
    except ImportError:
        limits, blas = nullcontext(), "BLAS default (threadpoolctl not installed)"
    with limits:
        yield Prepared(partial(np.dot, flat(data.x), flat(data.y)), None, {"threads_used": blas})


# --------------------------------------------------------------------------------------------------

_TORCH_HINT = ("optional peer: `pip install torch` (CPU-only wheel: "
               "`pip install torch --index-url https://download.pytorch.org/whl/cpu`)")

IMPLS = (
    Impl("cbce", "cbce", "cbce", None, lambda c: True, _cbce),
    Impl("cbce_auto", "cbce n_threads=None", "cbce", None,
         lambda c: c.threads == n_cores() and c.layout == "contig" and c.weights == "unweighted",
         partial(_cbce, auto=True)),
    Impl("numpy", "NumPy by hand", "peer", None, lambda c: True, _numpy),
    Impl("sklearn", "sklearn HalfBinomialLoss", "peer", "sklearn", lambda c: c.kind == "logits",
         _sklearn_hbl, "optional peer: `pip install scikit-learn`"),
    Impl("sklearn_log_loss", "sklearn log_loss", "peer", "sklearn",
         lambda c: c.op == "loss" and c.kind == "probs" and c.threads == 1, _sklearn_log_loss,
         "optional peer: `pip install scikit-learn`"),
    Impl("torch", "PyTorch", "peer", "torch", lambda c: c.op != "grad_hess", _torch, _TORCH_HINT),
    Impl("numba", "Numba prange", "peer", "numba", lambda c: True, _numba,
         "optional peer: `pip install numba`"),
    Impl("roofline_add", "np.add roofline", "roofline", None, lambda c: c.writes_grad, _roofline_add),
    Impl("roofline_dot", "np.dot roofline", "roofline", None, lambda c: not c.writes_grad, _roofline_dot),
)
IMPL_BY_NAME = {i.name: i for i in IMPLS}


def missing_requirement(impl: Impl) -> str | None:
    """Why ``impl`` cannot run here (its optional package is absent or broken), or None."""
    if impl.requires is None:
        return None
    if importlib.util.find_spec(impl.requires) is None:
        return f"{impl.requires} not installed ({impl.install})"
    try:
        importlib.import_module(impl.requires)
    except Exception as exc:  # a broken install is a skip too, with its error
        return f"{impl.requires} installed but not importable: {exc!r}"
    return None
