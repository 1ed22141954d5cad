"""cbce for dask.array: the core API on chunked arrays, lazily, on any Dask scheduler (docs/guide/dask.md).

Example::

    import dask, cbce.dask
    loss = cbce.dask.bce(y, logits, from_logits=True)                  # 0-d dask array
    loss, grad = cbce.dask.bce_loss_and_grad(y, logits, from_logits=True)
    loss, grad = dask.compute(loss, grad)                              # one pass over the chunks

Same arguments, options and semantics as cbce.bce & co. Inputs may be dask arrays or NumPy
arrays; outputs are dask arrays with y_pred's chunks (y_true and the weights are rechunked to
them). Reduced losses are 0-d dask arrays. This module imports dask; `import cbce` does not.

Design notes:

A. Exact reductions. Each chunk's Σl comes from cbce's own kernel (reduction="sum": fixed
   blocks, pairwise, ≤ 1e-14 relative). The chunks' partial sums travel up
   dask.array.reduction's tree as lists, untouched, and are added once at the top by math.fsum
   (correctly rounded). The result therefore depends on the chunking only (not on split_every,
   the scheduler or the order in which chunks finish), and it and the NumPy path are both
   within their pairwise sums' rounding of the exact sum: ≤ 1e-14 relative apart for any
   chunking. Adding floats at every tree level instead would tie the result to the tree's shape.
B. Divisors. "mean" divides by N = x.size (static). "weighted_mean" divides by Σw over w
   broadcast to x.shape, which equals (x.size / w.size) · Σw: a reduction over w's own chunks
   (NumPy's pairwise sum per chunk on a contiguous float64 copy, chunks combined as in A), with
   no pass over x. Both are known before any gradient chunk runs.
C. Scaled gradients. The core kernel writes grad = (W·scale)·g, scale = 1/divisor.
   float64: a chunk runs with sample_weight = w·s (or the scalar s without weights),
   s = 1/divisor, and reduction="sum" (scale 1): the very same expression, so gradients and
   hessians are bitwise those of the NumPy path for "mean", and within 4 ulp for
   "weighted_mean" (this Σw and the kernel's may differ in their last bits). The loss of the
   same pass is Σ(w·s)·l, each term within 2 ulp of w·l/divisor: the 1e-14 bound of A holds.
   float32: W is float32 in that kernel (float32 logits even run in float arithmetic); w·s
   rounded to float32 would put ~6e-8 relative error into the loss. A float32 chunk therefore
   runs unscaled (reduction="sum") and grad/hess are multiplied by s in float64 and rounded once
   more: within 2 float32 ulp of the NumPy path.
D. One pass for several outputs. One task per chunk calls the core once and returns a tuple
   (loss or loss partial, grad, hess); each output is a getitem layer over it. Computed together
   (dask.compute(loss, grad)) the tuple task runs once per chunk; computed alone, dask fuses the
   layers into one task per chunk.
E. Threads. n_threads goes to every chunk's core call. With None the core uses OpenMP's default
   team (OMP_NUM_THREADS, else every core) inside each task, while dask runs one task per worker
   thread: a threaded scheduler with T threads on a C-core machine then asks for T·C threads.
   dask.distributed's Nanny starts worker processes with OMP_NUM_THREADS=1 (its
   distributed.nanny.pre-spawn-environ), so there None means one thread per task and the
   parallelism is dask's. docs/guide/dask.md gives the measured effect.
"""
from __future__ import annotations

import functools
import math
import operator
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

import cbce
from cbce import _api


def _import_dask_array() -> Any:
    try:
        import dask.array
    except ImportError as exc:
        raise ImportError("cbce.dask needs dask.array: pip install 'cbce[dask]' "
                          "(or pip install 'dask[array]')") from exc
    return dask.array


if TYPE_CHECKING:
    import dask.array as da
    from numpy.typing import ArrayLike

    _In = Union[ArrayLike, da.Array]
    _Reduction = Literal["none", "sum", "mean", "weighted_mean"]
else:
    da = _import_dask_array()

__all__ = ["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess"]

_F32 = np.dtype(np.float32)


# --------------------------------------------------------------------------------------------------
# Operands

def _numeric_kind(arr, name):
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float); "
                        f"got an array of dtype {arr.dtype}")


def _known_shape(arr, name):
    if any(isinstance(s, float) and math.isnan(s) for s in arr.shape):
        raise ValueError(f"{name} has unknown chunk sizes (shape {arr.shape}); call "
                         f"compute_chunk_sizes() on it first")


def _array(a, name, like):
    """`a` as a dask array; a NumPy input takes the chunks of `like` where the shapes agree."""
    if isinstance(a, da.Array):
        arr = a
    else:
        a = np.asarray(a)
        chunks = like.chunks if like is not None and a.shape == like.shape else -1
        arr = da.from_array(a, chunks=chunks)
    _numeric_kind(arr, name)
    _known_shape(arr, name)
    return arr


def _weight(a, name, x):
    """`a` aligned with x's chunks (size-1 dims keep one chunk of 1: they broadcast), a 0-d
    NumPy constant, or None."""
    if a is None:
        return None
    if not isinstance(a, da.Array):
        a = np.asarray(a)
        _numeric_kind(a, name)
        if a.ndim == 0:
            return a
    else:
        _numeric_kind(a, name)
        _known_shape(a, name)
    lead = x.ndim - a.ndim
    if lead < 0 or any(s != 1 and s != x.shape[lead + i] for i, s in enumerate(a.shape)):
        raise ValueError(f"{name} of shape {a.shape} cannot be broadcast to the shape of "
                         f"y_pred {x.shape}")
    chunks = tuple((1,) if s == 1 else x.chunks[lead + i] for i, s in enumerate(a.shape))
    if isinstance(a, da.Array):
        return a.rechunk(chunks)
    return da.from_array(a, chunks=chunks)


def _operands(y_true, y_pred, sample_weight, pos_weight):
    like = y_pred if isinstance(y_pred, da.Array) else (
        y_true if isinstance(y_true, da.Array) else None)
    x = _array(y_pred, "y_pred", like)
    y = _array(y_true, "y_true", x)
    if x.shape != y.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y.shape} and {x.shape}")
    y = y.rechunk(x.chunks)
    return x, y, _weight(sample_weight, "sample_weight", x), _weight(pos_weight, "pos_weight", x)


# --------------------------------------------------------------------------------------------------
# Exact sums of chunk partials (Note A)

def _flat(nested):
    for item in nested:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


def _exact_sum(values):
    """math.fsum, with the kernel's IEEE results where fsum refuses (inf - inf, overflow)."""
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.sum(np.asarray(values, dtype=np.float64)))


def _keep(part, axis=None, keepdims=None, computing_meta=False):
    return part


def _concat(parts, axis=None, keepdims=None):
    return list(_flat(parts))


def _total(parts, axis=None, keepdims=None, divisor=None):
    total = _exact_sum(list(_flat(parts)))
    if divisor is None:
        return np.float64(total)
    with np.errstate(all="ignore"):
        return np.float64(total) / np.float64(divisor)


def _tree_sum(parts, divisor=None):
    """0-d float64 dask array: the exact sum of every chunk's list of partials (/ divisor)."""
    return da.reduction(parts, chunk=_keep, combine=_concat,
                        aggregate=functools.partial(_total, divisor=divisor),
                        axis=None, keepdims=False, dtype=np.float64, concatenate=False,
                        meta=np.empty((), np.float64), name="cbce-sum")


def _weight_partial(w, block_info=None):
    # Contiguous float64 first: NumPy's sum is pairwise over one inner loop only then (a
    # buffered float32 -> float64 sum is naive across 8192-element buffers).
    return [float(np.sum(np.ascontiguousarray(w, dtype=np.float64)))]


def _weight_sum(w, x):
    """Σ of w broadcast to x.shape (Note B), as a 0-d dask array or a float."""
    if isinstance(w, np.ndarray):  # 0-d constant
        return float(x.size) * float(w)
    parts = w.map_blocks(_weight_partial, dtype=np.float64, meta=np.empty((0,) * w.ndim),
                         token="cbce-wsum")
    # Σ over x.shape = (number of times w repeats) · Σw; exact integer count, one rounding.
    return _tree_sum(parts) * float(x.size // w.size if w.size else 0)


def _ratio(a, b):
    """a / b in IEEE arithmetic (x/0 = ±inf, 0/0 = nan), as the kernel's C division."""
    with np.errstate(all="ignore"):
        return np.float64(a) / np.float64(b)


def _reciprocal(d):
    return _ratio(1.0, d)


# --------------------------------------------------------------------------------------------------
# One chunk

def _call(op, x, y, w, pw, opts):
    if op == "grad_hess":
        return cbce.bce_grad_hess(y, x, sample_weight=w, pos_weight=pw,
                                  label_smoothing=opts["label_smoothing"],
                                  reduction=opts["reduction"], n_threads=opts["n_threads"])
    fn = {"loss": cbce.bce, "grad": cbce.bce_grad, "loss_grad": cbce.bce_loss_and_grad}[op]
    return fn(y, x, sample_weight=w, pos_weight=pw, **opts)


def _chunk(x, y, w, pw, scale, *, op, opts, scale_by, block_info=None):
    """The core API on one chunk; returns the op's outputs as a tuple, a reduced loss as a
    one-element list (a partial of Note A)."""
    if scale_by == "weight":
        w = scale if w is None else w * scale  # float64: (w·s)·g, Note C
    try:
        res = _call(op, x, y, w, pw, opts)
    except ValueError as exc:
        raise _global_range_error(exc, x, y, opts, block_info) from None
    res = res if isinstance(res, tuple) else (res,)
    if opts.get("reduction") == "sum" and op in ("loss", "loss_grad"):
        res = ([res[0]],) + res[1:]
    if scale_by == "output":  # float32: unscaled outputs times s, rounded once (Note C)
        for arr in res[1:] if op in ("loss", "loss_grad") else res:
            np.multiply(arr, float(scale), out=arr, dtype=np.float64, casting="same_kind")
    return res


def _global_range_error(exc, x, y, opts, block_info):
    """A chunk's range error, its index made global (the chunk's offset added)."""
    if not block_info or 0 not in block_info:
        return exc
    msg = str(exc)
    if not msg.startswith(("y_true must be in", "y_pred must be probabilities")):
        return exc
    with np.errstate(invalid="ignore"):
        bad = ~((y >= 0) & (y <= 1))
        if not opts.get("from_logits", True):
            bad |= ~((x >= 0) & (x <= 1))
    local = np.unravel_index(int(np.argmax(bad.reshape(-1))), x.shape)
    start = [lo for lo, _ in block_info[0]["array-location"]]
    glob = tuple(int(i) + s for i, s in zip(local, start))
    where_local = _api._where(tuple(int(i) for i in local))
    if msg.endswith(where_local):
        return ValueError(msg[:-len(where_local)] + _api._where(glob))
    return ValueError(f"{msg} (in the chunk starting at index {tuple(start)})")


# --------------------------------------------------------------------------------------------------
# Graph

def _build(op: str, y_true: Any, y_pred: Any, from_logits: bool, sample_weight: Any,
           pos_weight: Any, label_smoothing: float, eps: float | None, reduction: str,
           n_threads: int | None) -> dict[str, Any]:
    """The op's outputs as dask arrays: {"loss": ..., "grad": ..., "hess": ...} as relevant."""
    if not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"from_logits must be a bool; got {from_logits!r}")
    _api._check_options(reduction, n_threads, label_smoothing)
    x, y, w, pw = _operands(y_true, y_pred, sample_weight, pos_weight)
    dtype = _api._compute_dtype(x)
    _api._check_eps(eps, from_logits, dtype)
    if w is not None and w.dtype != dtype:
        w = w.astype(dtype)  # as the core: Σw and w·s in the compute dtype's values

    names = {"loss": ["loss"], "grad": ["grad"], "loss_grad": ["loss", "grad"],
             "grad_hess": ["grad", "hess"]}[op]
    has_grad = op != "loss"
    n = x.size
    divisor = None  # of the loss (and the gradient's scale), Note B
    if reduction == "mean" or (reduction == "weighted_mean" and w is None):
        divisor = float(n)
    elif reduction == "weighted_mean":
        divisor = _weight_sum(w, x)

    scale, scale_by, loss_divisor = None, None, divisor
    if has_grad and divisor is not None:
        scale = float(_reciprocal(divisor)) if isinstance(divisor, float) else \
            divisor.map_blocks(_reciprocal, dtype=np.float64, meta=np.empty((), np.float64))
        scale_by = "output" if dtype == _F32 else "weight"
        if scale_by == "weight":
            loss_divisor = None  # the loss partials are Σ(w·s)·l already
    chunk_red = "none" if reduction == "none" else "sum"
    opts = {"reduction": chunk_red, "label_smoothing": label_smoothing, "n_threads": n_threads}
    if op != "grad_hess":
        opts.update(from_logits=bool(from_logits), eps=eps)

    meta = np.empty((0,) * x.ndim, dtype)
    tup = da.map_blocks(_chunk, x, y, w, pw, scale, op=op, opts=opts, scale_by=scale_by,
                        dtype=dtype, meta=meta, token=f"cbce-{op}")
    out = {}
    for k, name in enumerate(names):
        if name == "loss" and chunk_red == "sum":
            parts = tup.map_blocks(operator.getitem, k, dtype=np.float64, meta=meta,
                                   token="cbce-loss-partial")
            if loss_divisor is None or isinstance(loss_divisor, float):
                out["loss"] = _tree_sum(parts, loss_divisor)
            else:
                out["loss"] = da.map_blocks(_ratio, _tree_sum(parts), loss_divisor,
                                            dtype=np.float64, meta=np.empty((), np.float64))
        else:
            out[name] = tup.map_blocks(operator.getitem, k, dtype=dtype, meta=meta,
                                       token=f"cbce-{name}")
    return out


# --------------------------------------------------------------------------------------------------
# Public API (cbce._api's signatures)

def bce(y_true: _In, y_pred: _In, *, from_logits: bool = False, sample_weight: _In | None = None,
        pos_weight: _In | None = None, label_smoothing: float = 0.0, eps: float | None = None,
        reduction: _Reduction = "mean", n_threads: int | None = None) -> da.Array:
    """cbce.bce for dask arrays: a 0-d dask array (reduced) or a dask array of y_pred's chunks
    ("none"). Reduced losses are exact sums of per-chunk partials (module notes A, B)."""
    return _build("loss", y_true, y_pred, from_logits, sample_weight, pos_weight,
                  label_smoothing, eps, reduction, n_threads)["loss"]


def bce_grad(y_true: _In, y_pred: _In, *, from_logits: bool = False,
             sample_weight: _In | None = None, pos_weight: _In | None = None,
             label_smoothing: float = 0.0, eps: float | None = None,
             reduction: _Reduction = "mean", n_threads: int | None = None) -> da.Array:
    """cbce.bce_grad for dask arrays: the gradient of the reduced loss, lazily, with y_pred's
    chunks; "mean"/"weighted_mean" scaled by the global divisor (module note C)."""
    return _build("grad", y_true, y_pred, from_logits, sample_weight, pos_weight,
                  label_smoothing, eps, reduction, n_threads)["grad"]


def bce_loss_and_grad(y_true: _In, y_pred: _In, *, from_logits: bool = False,
                      sample_weight: _In | None = None, pos_weight: _In | None = None,
                      label_smoothing: float = 0.0, eps: float | None = None,
                      reduction: _Reduction = "mean",
                      n_threads: int | None = None) -> tuple[da.Array, da.Array]:
    """(loss, grad) for dask arrays from one core call per chunk; compute them together
    (dask.compute(loss, grad)) for one pass (module note D)."""
    out = _build("loss_grad", y_true, y_pred, from_logits, sample_weight, pos_weight,
                 label_smoothing, eps, reduction, n_threads)
    return out["loss"], out["grad"]


def bce_grad_hess(y_true: _In, y_pred: _In, *, sample_weight: _In | None = None,
                  pos_weight: _In | None = None, label_smoothing: float = 0.0,
                  reduction: _Reduction = "mean",
                  n_threads: int | None = None) -> tuple[da.Array, da.Array]:
    """(grad, hess) of the BCE of logits for dask arrays, one core call per chunk."""
    out = _build("grad_hess", y_true, y_pred, True, sample_weight, pos_weight,
                 label_smoothing, None, reduction, n_threads)
    return out["grad"], out["hess"]
