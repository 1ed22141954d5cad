"""The Python facade: argument checks, dtype dispatch, broadcasting. No math here.

Every public function follows the same path: convert and check the arguments (`_prepare`),
express every input as a 2-D strided view without copying (`_as_2d`), allocate the outputs the
caller did not pass, and call one float32 or float64 entry point of cbce._kernels, which runs
with the GIL released. A range error found by the kernel's fused checks comes back as the flat
index of the first bad element and is raised here, naming the argument, the value and the index.
"""
import functools
import numbers
import operator

import numpy as np

from cbce import _docs
from cbce._dispatch import kernels as _kernels

__all__ = ["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess"]

_REDUCTIONS = _kernels.REDUCTIONS
_OP = _kernels.OPS
# Larger thread counts are capped here (the kernels take a C int; a team never exceeds the
# number of 2048-element blocks anyway).
_MAX_THREADS = 2**31 - 1
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
# PyTorch's binary_cross_entropy backward floors x*(1-x) at EPSILON = 1e-12 stored as a float32
# constant (9.99999996e-13), for float64 input too (checked against torch 2.13).
_GRAD_FLOOR = float(np.float32(1e-12))
_ENTRY = {_F32: _kernels.run_f32, _F64: _kernels.run_f64}
_FOCAL_ENTRY = {_F32: _kernels.run_focal_f32, _F64: _kernels.run_focal_f64}


def _numeric(a, name):
    """`a` as an ndarray of a real numeric dtype, without a copy where the memory allows it.

    ndarrays pass as they are (subclasses as base-class views); other DLPack producers (PyTorch
    and JAX CPU arrays, ...) are read through np.from_dlpack, which shares their memory and
    strides; everything else goes through np.asarray: ``__array__`` (pandas Series),
    the buffer protocol (memoryview, array.array) or a sequence. A producer that cannot export
    (a tensor that requires grad, a GPU array) falls back to np.asarray, whose error then names
    the reason.
    """
    if type(a) is not np.ndarray and isinstance(a, np.ndarray) and isinstance(a, np.ma.MaskedArray):
        # np.asarray would drop the mask and cbce would silently use the masked values.
        raise TypeError(f"{name} is a masked array and cbce applies no masks; pass "
                        f"{name}.filled(value), or exclude the masked elements with "
                        f"sample_weight=~mask and reduction='weighted_mean'")
    if type(a) is np.ndarray:
        arr = a
    elif not isinstance(a, np.ndarray) and hasattr(type(a), "__dlpack__"):
        try:
            arr = np.from_dlpack(a)
        except (BufferError, RuntimeError, TypeError, ValueError):
            arr = np.asarray(a)
    else:
        arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float); "
                        f"got an array of dtype {arr.dtype}")
    return arr


def _compute_dtype(x):
    """float32 for float32/float16 predictions, float64 for everything else."""
    dt = x.dtype
    if dt == _F32 or dt == _F64:
        return dt
    if dt.kind == "f" and dt.itemsize <= 4:
        return _F32
    return _F64


def _cast(arr, dtype):
    # The array itself (strides included) when it already has the dtype in native byte order;
    # otherwise the documented copy. A misaligned buffer (e.g. np.frombuffer at an odd offset)
    # is copied too: the kernels' loads of double/float through it are undefined behaviour in
    # C (UBSan: "load of misaligned address"), and a vectorizer may use aligned instructions.
    return arr if arr.dtype == dtype and arr.flags.aligned else arr.astype(dtype)


def _check_options(reduction, n_threads, label_smoothing):
    try:
        red = _REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"reduction must be one of {sorted(_REDUCTIONS)}; got {reduction!r}") from None
    if n_threads is None:
        nt = 0
    elif isinstance(n_threads, numbers.Integral) and not isinstance(n_threads, (bool, np.bool_)):
        nt = operator.index(n_threads)
        if nt < 1:
            raise ValueError(f"n_threads must be a positive int or None; got {n_threads!r}")
        nt = min(nt, _MAX_THREADS)
    else:
        raise ValueError(f"n_threads must be a positive int or None; got {n_threads!r} "
                         f"of type {type(n_threads).__name__}")
    if not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, (bool, np.bool_)):
        raise TypeError(f"label_smoothing must be a real number in [0, 1]; got {label_smoothing!r}")
    ls = _as_float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
    return red, nt, ls


def _as_float(v):
    """float(v) for a real option value; an int beyond float's range becomes +-inf (out of every
    option's range, so its check raises ValueError, not OverflowError)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _check_eps(eps, from_logits, dtype):
    """Clip range [lo, hi] of the probabilities."""
    if eps is None:
        return 0.0, 1.0
    if from_logits:
        raise ValueError("eps applies to probabilities only; it must be None with from_logits=True")
    if not isinstance(eps, numbers.Real) or isinstance(eps, (bool, np.bool_)):
        raise TypeError(f"eps must be a real number in (0, 0.5) or None; got {eps!r}")
    e = _as_float(eps)
    if not 0.0 < e < 0.5:
        raise ValueError(f"eps must be in (0, 0.5); got {eps!r}")
    # Clip in the input's type, as a user's np.clip(p, eps, 1 - eps) would.
    return float(dtype.type(e)), float(dtype.type(1.0) - dtype.type(e))


def _check_focal(gamma, alpha):
    """(gamma, alpha as the kernel takes it: -1.0 for None), or None for plain BCE."""
    if not isinstance(gamma, numbers.Real) or isinstance(gamma, (bool, np.bool_)):
        raise TypeError(f"gamma must be a real number >= 0; got {gamma!r}")
    g = _as_float(gamma)
    if not 0.0 <= g < float("inf"):
        raise ValueError(f"gamma must be a finite number >= 0; got {gamma!r}")
    if alpha is None:
        return None if g == 0.0 else (g, -1.0)
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, (bool, np.bool_)):
        raise TypeError(f"alpha must be None or a real number in [0, 1]; got {alpha!r}")
    a = _as_float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must be None or in [0, 1]; got {alpha!r}")
    return g, a


def _weights(a, name, shape, dtype, target=None):
    """`a` broadcast to `shape` as a read-only view (zero strides, no copy), or None. `target`
    names `shape` in the error message (default: y_pred's shape)."""
    if a is None:
        return None
    arr = _cast(_numeric(a, name), dtype)
    if arr.shape == shape:
        return arr
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        target = target or f"the shape of y_pred {shape}"
        raise ValueError(f"{name} of shape {arr.shape} cannot be broadcast to {target}") from None


def _mergeable(arrays, shape, d):
    """Whether dims d and d+1 merge into one strided dim for every array."""
    inner = shape[d + 1]
    return all(a.strides[d] == a.strides[d + 1] * inner for a in arrays)


def _as_2d(shape, arrays):
    """Views of `arrays` (all of `shape`) as (rows, cols), merging dims jointly; copies an array
    only when no common 2-D view exists (documented: a rare layout such as a weight broadcast
    along a middle axis of a 3-D non-contiguous input)."""
    if 0 in shape:
        # Nothing to read; and an empty array's strides need not merge even once contiguous
        # (a weight broadcast along an axis made the copy-and-retry below recurse forever).
        return [a.reshape(1, 0) for a in arrays]
    dims = [d for d, s in enumerate(shape) if s != 1]
    if len(dims) <= 1:
        n = shape[dims[0]] if dims else 1
        return [a.reshape(1, n) for a in arrays]
    sub = tuple(shape[d] for d in dims)
    views = [a if len(dims) == a.ndim else a.reshape(sub) for a in arrays]
    # Groups of consecutive dims that merge for every array, scanning from the innermost.
    groups = [[len(sub) - 1]]
    for d in range(len(sub) - 2, -1, -1):
        if _mergeable(views, sub, d):
            groups[-1].insert(0, d)
        else:
            groups.append([d])
    if len(groups) > 2:
        arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
        return _as_2d(shape, arrays)
    if len(groups) == 1:
        n = int(np.prod(sub))
        return [v.reshape(1, n) for v in views]
    rows = int(np.prod([sub[d] for d in groups[1]]))
    cols = int(np.prod([sub[d] for d in groups[0]]))
    return [v.reshape(rows, cols) for v in views]


def _same_view(a, b):
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _check_out(out, name, shape, dtype):
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray; got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name} must have the shape of y_pred {shape}; got {out.shape}")
    if out.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype} (the compute dtype for this y_pred); "
                         f"got {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return out


def _index_of(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _where(idx):
    return f"index {idx[0]}" if len(idx) == 1 else f"index {idx}"


def _raise_range_error(flat, x, y, from_logits):
    idx = _index_of(flat, x.shape)
    yv = y[idx]
    if not 0.0 <= yv <= 1.0:
        raise ValueError(f"y_true must be in [0, 1]; found {float(yv)!r} at {_where(idx)}")
    if not from_logits:
        raise ValueError(f"y_pred must be probabilities in [0, 1] (pass from_logits=True for "
                         f"logits); found {float(x[idx])!r} at {_where(idx)}")
    raise AssertionError("kernel reported an invalid element that is valid")  # pragma: no cover


def _run(op, y_true, y_pred, from_logits, sample_weight, pos_weight, label_smoothing, eps,
         reduction, n_threads, outs, gamma=0.0, alpha=None):
    """Check, convert and dispatch. `outs` names the outputs wanted ('loss', 'grad', 'hess'),
    each mapped to (the caller's array or None, the argument's name)."""
    if sample_weight is None and pos_weight is None and alpha is None \
            and type(gamma) in (float, int) and gamma == 0:
        # The common call, checked in C (src/_kernels_impl.pxi, `fast`); None: the path below.
        fast = _kernels.fast(op, y_true, y_pred, from_logits, label_smoothing, eps, reduction,
                             n_threads, outs)
        if fast is not None:
            value, results, bad = fast
            if bad >= 0:
                _raise_range_error(bad, y_pred, y_true, from_logits)
            return value, results
    if not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"from_logits must be a bool; got {from_logits!r}")
    red, nt, ls = _check_options(reduction, n_threads, label_smoothing)
    focal = _check_focal(gamma, alpha)
    x = _numeric(y_pred, "y_pred")
    y = _numeric(y_true, "y_true")
    if x.shape != y.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y.shape} and {x.shape}")
    dtype = _compute_dtype(x)
    lo, hi = _check_eps(eps, from_logits, dtype)
    x = _cast(x, dtype)
    y = _cast(y, dtype)
    shape = x.shape
    w = _weights(sample_weight, "sample_weight", shape, dtype)
    pw = _weights(pos_weight, "pos_weight", shape, dtype)

    given = {k: _check_out(arr, name, shape, dtype) for k, (arr, name) in outs.items()}
    if given.get("grad") is not None and given.get("hess") is not None \
            and np.may_share_memory(given["grad"], given["hess"]):
        raise ValueError("grad_out and hess_out must not overlap")
    inputs = [a for a in (x, y, w, pw) if a is not None]
    results, deferred, check_first = {}, {}, False
    for k, arr in given.items():
        if arr is None:
            results[k] = np.empty(shape, dtype)
        elif not arr.flags.aligned:
            # The kernels store through aligned pointers only (see _cast): compute aside.
            results[k] = np.empty(shape, dtype)
            deferred[k] = arr
        elif any(np.may_share_memory(arr, a) for a in inputs):
            if any(_same_view(arr, a) for a in inputs) and \
                    not any(np.may_share_memory(arr, a) and not _same_view(arr, a) for a in inputs):
                # Element i is read before it is written: safe in place, but the range checks
                # must pass before the first write so that a raising call leaves inputs intact.
                results[k] = arr
                check_first = True
            else:
                # Partial overlap: compute aside, copy in on success.
                results[k] = np.empty(shape, dtype)
                deferred[k] = arr
        else:
            results[k] = arr

    views = _as_2d(shape, [a for a in (x, y, w, pw) if a is not None])
    x2, y2 = views[0], views[1]
    w2 = views[2] if w is not None else None
    pw2 = views[-1] if pw is not None else None
    entry = _ENTRY[dtype]
    if focal is not None:
        # Focal options go to their own entry points; gamma = 0 without alpha never gets here.
        entry = functools.partial(_FOCAL_ENTRY[dtype], gamma=focal[0], alpha=focal[1])
    floor = _GRAD_FLOOR
    flat = {k: v.reshape(-1) for k, v in results.items()}

    if check_first:
        _, bad = entry(_OP["check"], from_logits, _REDUCTIONS["sum"], x2, y2, w2, pw2,
                       None, None, None, ls, lo, hi, floor, nt)
        if bad >= 0:
            _raise_range_error(bad, x, y, from_logits)
    value, bad = entry(op, from_logits, red, x2, y2, w2, pw2,
                       flat.get("loss"), flat.get("grad"), flat.get("hess"),
                       ls, lo, hi, floor, nt)
    if bad >= 0:
        _raise_range_error(bad, x, y, from_logits)
    for k, arr in deferred.items():
        np.copyto(arr, results[k])
        results[k] = arr
    return value, results


@_docs.filler(_docs.BCE)
def bce(y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None,
        label_smoothing=0.0, eps=None, reduction="mean", n_threads=None, gamma=0.0,
        alpha=None):
    """Binary cross-entropy of predictions against targets: a number, or one per element.

    Per element, with x = ``y_pred``, y = ``y_true``, w = ``sample_weight`` and
    p_w = ``pos_weight``:

    * probabilities: l = -w [p_w y max(log x, -100) + (1 - y) max(log(1 - x), -100)]
      (PyTorch's ``binary_cross_entropy``);
    * logits: l = w [p_w y softplus(-x) + (1 - y) softplus(x)] (PyTorch's
      ``binary_cross_entropy_with_logits``, scikit-learn's ``HalfBinomialLoss``), within
      4 ulp of the exact value for every finite x.

    Parameters
    ----------
    %(y_true)s
    %(y_pred)s
    %(from_logits)s
    %(sample_weight)s
    %(pos_weight)s
    %(label_smoothing)s
    %(eps)s
    %(reduction)s
    %(n_threads)s
    %(gamma)s
    %(alpha)s

    Returns
    -------
    loss : float or ndarray
        A Python float accumulated in float64, bitwise identical for every thread count and
        memory layout; for reduction="none" the per-element losses, of y_pred's shape and the
        compute dtype.

    Raises
    ------
    %(raises)s

    See Also
    --------
    bce_loss_and_grad : the loss and its gradient in one pass.
    cbce.metrics.log_loss : scikit-learn's log_loss (labels, clipping) on this function.

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> round(cbce.bce(y, np.array([0.9, 0.2, 0.6])), 10)
    0.2797765636
    >>> round(cbce.bce(y, np.array([2.0, -1.0, 0.5]), from_logits=True), 10)
    0.3047555609
    >>> cbce.bce(y, np.array([0.9, 0.2, 0.6]), reduction="none")
    array([0.10536052, 0.22314355, 0.51082562])
    >>> round(cbce.bce(y, np.array([0.0, 0.2, 0.6]), reduction="sum"), 10)  # 100, not inf
    100.7339691751
    >>> round(cbce.bce(y, np.array([0.0, 0.2, 0.6]), eps=1e-7, reduction="sum"), 10)
    16.852064826
    """
    none = reduction == "none"
    value, res = _run(_OP["loss"], y_true, y_pred, from_logits, sample_weight, pos_weight,
                      label_smoothing, eps, reduction, n_threads, {"loss": (None, "")} if none else {},
                      gamma, alpha)
    return res["loss"] if none else value


@_docs.filler(_docs.BCE)
def bce_grad(y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None,
             label_smoothing=0.0, eps=None, reduction="mean", n_threads=None, out=None,
             gamma=0.0, alpha=None):
    """Gradient of ``bce`` with respect to y_pred, element by element (same options).

    The derivative of the returned (reduced) loss: divided by the number of elements for
    reduction="mean", by the sum of the weights for "weighted_mean".

    * probabilities: w [(1 - y) x - p_w y (1 - x)] / max(x (1 - x), 1e-12), at the clipped x
      (PyTorch's backward; 1e-12 is its float32 constant 9.99999996e-13 for both dtypes);
    * logits: w [(1 - y) sigmoid(x) - p_w y sigmoid(-x)].

    Parameters
    ----------
    %(y_true)s
    %(y_pred)s
    %(from_logits)s
    %(sample_weight)s
    %(pos_weight)s
    %(label_smoothing)s
    %(eps)s
    %(reduction)s
    %(n_threads)s
    %(out)s
    %(gamma)s
    %(alpha)s

    Returns
    -------
    grad : ndarray
        The gradient, of y_pred's shape and the compute dtype (``out`` when given).

    Raises
    ------
    %(raises)s

    See Also
    --------
    bce_loss_and_grad : the loss too, in the same pass.

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> cbce.bce_grad(y, np.array([2.0, -1.0, 0.5]), from_logits=True)
    array([-0.03973431,  0.08964714, -0.12584689])
    >>> logits = np.array([2.0, -1.0, 0.5])
    >>> g = cbce.bce_grad(y, logits, from_logits=True, reduction="sum", out=logits)
    >>> g is logits  # in place
    True
    """
    _, res = _run(_OP["grad"], y_true, y_pred, from_logits, sample_weight, pos_weight,
                  label_smoothing, eps, reduction, n_threads, {"grad": (out, "out")}, gamma, alpha)
    return res["grad"]


@_docs.filler(_docs.BCE)
def bce_loss_and_grad(y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None,
                      label_smoothing=0.0, eps=None, reduction="mean", n_threads=None, out=None,
                      gamma=0.0, alpha=None):
    """``(bce(...), bce_grad(...))`` computed in one pass over the data.

    One read of the inputs and one write of the gradient, with no temporary array: what a
    training step needs (cbce.torch's losses call it in their forward).

    Parameters
    ----------
    %(y_true)s
    %(y_pred)s
    %(from_logits)s
    %(sample_weight)s
    %(pos_weight)s
    %(label_smoothing)s
    %(eps)s
    %(reduction)s
    %(n_threads)s
    %(out)s
    %(gamma)s
    %(alpha)s

    Returns
    -------
    loss : float or ndarray
        As ``bce`` returns it.
    grad : ndarray
        As ``bce_grad`` returns it.

    Raises
    ------
    %(raises)s

    See Also
    --------
    bce_grad_hess : gradient and hessian, for boosting objectives.

    Examples
    --------
    Logistic regression by gradient descent:

    >>> import numpy as np
    >>> import cbce
    >>> X = np.random.default_rng(0).standard_normal((1000, 3))
    >>> y = (X[:, 0] > 0).astype(float)
    >>> w = np.zeros(3)
    >>> for _ in range(50):
    ...     loss, g = cbce.bce_loss_and_grad(y, X @ w, from_logits=True)
    ...     w -= 1.0 * (X.T @ g)
    >>> bool(loss < 0.2), bool(w[0] > 2 * abs(w[1:]).max())
    (True, True)
    """
    outs = {"grad": (out, "out")}
    if reduction == "none":
        outs["loss"] = (None, "")
    value, res = _run(_OP["loss_grad"], y_true, y_pred, from_logits, sample_weight,
                      pos_weight, label_smoothing, eps, reduction, n_threads, outs, gamma, alpha)
    return (res["loss"] if reduction == "none" else value), res["grad"]


@_docs.filler(_docs.BCE)
def bce_grad_hess(y_true, y_pred, *, sample_weight=None, pos_weight=None, label_smoothing=0.0,
                  reduction="mean", n_threads=None, grad_out=None, hess_out=None, gamma=0.0,
                  alpha=None):
    """Gradient and hessian diagonal of the BCE of logits, in one pass.

    What a gradient-boosting objective returns (XGBoost, LightGBM custom objectives), with x
    the logits: grad = w [(1 - y) sigmoid(x) - p_w y sigmoid(-x)] and
    hess = w (p_w y + 1 - y) sigmoid(x) sigmoid(-x), both scaled like the loss's reduction.

    Parameters
    ----------
    %(y_true)s
    %(y_pred_logits)s
    %(sample_weight)s
    %(pos_weight)s
    %(label_smoothing)s
    %(reduction)s
    %(n_threads)s
    grad_out, hess_out : ndarray, optional
        Writable C-contiguous arrays of y_pred's shape and the compute dtype to fill; they
        must not overlap.
    %(gamma)s
    %(alpha)s

    Returns
    -------
    grad : ndarray
        The gradient with respect to the logits.
    hess : ndarray
        The diagonal of the hessian (positive, within 4 ulp of the exact value).

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> grad, hess = cbce.bce_grad_hess(np.array([1, 0, 0]), np.array([0.0, 2.0, -3.0]),
    ...                                 reduction="sum")
    >>> grad
    array([-0.5       ,  0.88079708,  0.04742587])
    >>> hess
    array([0.25      , 0.10499359, 0.04517666])
    """
    _, res = _run(_OP["grad_hess"], y_true, y_pred, True, sample_weight, pos_weight,
                  label_smoothing, None, reduction, n_threads,
                  {"grad": (grad_out, "grad_out"), "hess": (hess_out, "hess_out")}, gamma, alpha)
    return res["grad"], res["hess"]
