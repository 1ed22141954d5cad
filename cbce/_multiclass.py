"""The multi-class facade: softmax cross-entropy of logits with a class axis.

Checks and conversions only, like cbce/_api.py: the class axis is moved last and every operand is
viewed on a common 2-D grid of samples without copying (src/_multiclass_impl.pxi, Note H), then
one float32 or float64 entry point runs with the GIL released. Semantics are PyTorch's
`cross_entropy` (class weights, label smoothing, ignore_index, "mean" over the weight of the
kept targets), plus cbce's sample_weight and "weighted_mean"; see docs/focal-multiclass.md.
"""
import numbers
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cbce._api import (_F32, _F64, _REDUCTIONS, _cast, _check_options, _compute_dtype,
                       _numeric, _same_view, _weights)
from cbce import _docs
from cbce._dispatch import kernels as _kernels

__all__ = ["cross_entropy", "cross_entropy_grad", "cross_entropy_loss_and_grad"]

_OP = _kernels.CE_OPS
_ENTRY = {_F32: _kernels.ce_run_f32, _F64: _kernels.ce_run_f64}
_I64 = np.dtype(np.int64)


def _check_axis(axis, ndim):
    if not isinstance(axis, numbers.Integral) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"axis must be an int; got {axis!r}")
    a = operator.index(axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"axis {axis} is out of range for logits with {ndim} dimension(s)")
    return a % ndim


def _check_ignore_index(ignore_index):
    if ignore_index is None:
        return False, 0
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, (bool, np.bool_)):
        raise TypeError(f"ignore_index must be an int or None; got {ignore_index!r}")
    v = operator.index(ignore_index)
    if not -2**63 <= v < 2**63:
        raise ValueError(f"ignore_index must fit in int64; got {ignore_index!r}")
    return True, v


def _targets(y_true, shape, sample_shape, axis, dtype):
    """(probabilities or None, class indices as int64 or None, the checked y_true array)."""
    y = _numeric(y_true, "y_true")
    if y.shape == shape:
        return _cast(y, dtype), None, y
    if y.shape == sample_shape:
        if y.dtype.kind not in "iu":
            raise TypeError(f"y_true of shape {y.shape} holds class indices and must have an integer "
                            f"dtype; got {y.dtype} (cast it with .astype(int), or pass class "
                            f"probabilities of the logits' shape {shape})")
        if y.dtype.kind == "u" and y.size and int(y.max()) >= 2**63:
            flat = int(np.argmax(y >= 2**63))
            _raise_index_error(y, flat, shape[axis])
        return None, (y if y.dtype == _I64 else y.astype(_I64)), y
    raise ValueError(f"y_true must have the shape of logits {shape} (class probabilities) or of "
                     f"logits without axis {axis}, {sample_shape} (class indices); got {y.shape}")


def _where(idx):
    return f"index {idx[0]}" if len(idx) == 1 else f"index {idx}"


def _raise_index_error(y, flat, n_classes):
    idx = tuple(int(i) for i in np.unravel_index(flat, y.shape)) if y.shape else ()
    raise ValueError(f"y_true must hold class indices in [0, {n_classes}) (or ignore_index); "
                     f"found {int(y[idx])} at {_where(idx)}")


def _raise_range_error(flat, y, probs, axis, shape):
    """Message for the first invalid target, sample `flat` (C order over the sample shape)."""
    if not probs:
        _raise_index_error(y, flat, shape[axis])
    sample_shape = shape[:axis] + shape[axis + 1:]
    sidx = tuple(int(i) for i in np.unravel_index(flat, sample_shape)) if sample_shape else ()
    row = np.moveaxis(y, axis, -1)[sidx]
    c = int(np.argmax(~((row >= 0) & (row <= 1))))
    idx = sidx[:axis] + (c,) + sidx[axis:]
    raise ValueError(f"y_true must be class probabilities in [0, 1]; found {float(y[idx])!r} "
                     f"at {_where(idx)}")


def _class_weight(class_weight, n_classes, dtype):
    if class_weight is None:
        return None
    cw = _numeric(class_weight, "class_weight")
    if cw.shape != (n_classes,):
        raise ValueError(f"class_weight must have shape ({n_classes},), one weight per class; "
                         f"got {cw.shape}")
    # Rounded to the compute dtype, as every other input; the kernel reads doubles.
    return np.ascontiguousarray(_cast(cw, dtype), dtype=np.float64)


def _sample_weight(sample_weight, sample_shape, dtype):
    return _weights(sample_weight, "sample_weight", sample_shape, dtype,
                    target=f"the sample shape {sample_shape} (logits without the class axis)")


def _check_out(out, shape, dtype):
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a numpy.ndarray; got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out must have the shape of logits {shape}; got {out.shape}")
    if out.dtype != dtype:
        raise ValueError(f"out must have dtype {dtype} (the compute dtype for these logits); "
                         f"got {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out


def _grid(sample_shape, full, samples):
    """(rows, cols) and the (s0, s1) strides of every operand on a common 2-D grid of samples, or
    None when the sample dims of some operand do not merge into two (Note H). `full`: arrays of
    shape sample_shape + (C,); `samples`: arrays of sample_shape."""
    strides = [a.strides[:-1] for a in full] + [a.strides for a in samples]
    dims = [d for d, s in enumerate(sample_shape) if s != 1]
    if not dims:
        return 1, 1, [(0, 0)] * len(strides)
    groups = [[dims[-1]]]
    for k in range(len(dims) - 2, -1, -1):
        d, e = dims[k], groups[-1][0]
        if all(st[d] == st[e] * sample_shape[e] for st in strides):
            groups[-1].insert(0, d)
        else:
            groups.append([d])
    if len(groups) > 2:
        return None
    cols = int(np.prod([sample_shape[d] for d in groups[0]]))
    if len(groups) == 1:
        return 1, cols, [(0, st[dims[-1]]) for st in strides]
    rows = int(np.prod([sample_shape[d] for d in groups[1]]))
    return rows, cols, [(st[groups[1][-1]], st[dims[-1]]) for st in strides]


def _run(op, y_true, logits, axis, sample_weight, class_weight, label_smoothing, ignore_index,
         reduction, n_threads, out, want_loss):
    red, nt, ls = _check_options(reduction, n_threads, label_smoothing)
    x = _numeric(logits, "logits")
    if x.ndim == 0:
        raise ValueError("logits must have a class axis (at least 1 dimension); got a 0-d array")
    ax = _check_axis(axis, x.ndim)
    has_ignore, ignore = _check_ignore_index(ignore_index)
    dtype = _compute_dtype(x)
    x = _cast(x, dtype)
    shape = x.shape
    n_classes = shape[ax]
    if n_classes == 0:
        raise ValueError(f"logits must have at least one class along axis {axis}; got shape {shape}")
    sample_shape = shape[:ax] + shape[ax + 1:]
    probs, idx, y_checked = _targets(y_true, shape, sample_shape, ax, dtype)
    if has_ignore and probs is not None:
        raise ValueError("ignore_index applies to class indices only; y_true holds class "
                         "probabilities (PyTorch's rule)")
    cw = _class_weight(class_weight, n_classes, dtype)
    w = _sample_weight(sample_weight, sample_shape, dtype)
    out = _check_out(out, shape, dtype)

    inputs = [a for a in (x, probs, idx, w) if a is not None]
    grad, deferred, x_is_out = None, None, False
    if op != _OP["loss"]:
        grad = out
        if out is None:
            grad = np.empty(shape, dtype)
        elif _same_view(out, x) and not any(np.may_share_memory(out, a) for a in inputs[1:]):
            x_is_out = True     # read through a tile; targets checked before the first write
        elif any(np.may_share_memory(out, a) for a in inputs):
            grad, deferred = np.empty(shape, dtype), out
    loss_out = np.empty(sample_shape, dtype) if want_loss and red == _REDUCTIONS["none"] else None

    xm = np.moveaxis(x, ax, -1)
    pm = None if probs is None else np.moveaxis(probs, ax, -1)
    gm = None if grad is None else np.moveaxis(grad, ax, -1)
    full = [a for a in (xm, pm, gm) if a is not None]
    samples = [a for a in (idx, w) if a is not None]
    layout = _grid(sample_shape, full, samples)
    if layout is None:
        # The documented copy: inputs whose sample dims merge into no common 2-D grid are made
        # contiguous (class axis last); the output's own layout always merges into two groups.
        xm = np.ascontiguousarray(xm)
        pm = None if pm is None else np.ascontiguousarray(pm)
        idx = None if idx is None else np.ascontiguousarray(idx)
        w = None if w is None else np.ascontiguousarray(w)
        x_is_out = False
        full = [a for a in (xm, pm, gm) if a is not None]
        samples = [a for a in (idx, w) if a is not None]
        layout = _grid(sample_shape, full, samples)
    rows, cols, st = layout
    views = [as_strided(a, (rows, cols, n_classes), st[k] + (a.strides[-1],),
                        writeable=a is gm) for k, a in enumerate(full)]
    views += [as_strided(a, (rows, cols), st[len(full) + k], writeable=False)
              for k, a in enumerate(samples)]
    it = iter(views)
    x3 = next(it)
    p3 = None if pm is None else next(it)
    g3 = None if gm is None else next(it)
    i2 = None if idx is None else next(it)
    w2 = None if w is None else next(it)

    value, bad = _ENTRY[dtype](op, red, x3, p3, i2, w2, cw,
                               None if loss_out is None else loss_out.reshape(-1), g3, ls,
                               has_ignore, ignore, x_is_out, x_is_out, nt)
    if bad >= 0:
        _raise_range_error(bad, y_checked, probs is not None, ax, shape)
    if deferred is not None:
        np.copyto(deferred, grad)
        grad = deferred
    loss = loss_out if loss_out is not None else value
    return loss, grad


@_docs.filler(_docs.CE)
def cross_entropy(y_true, logits, *, axis=-1, sample_weight=None, class_weight=None,
                  label_smoothing=0.0, ignore_index=None, reduction="mean", n_threads=None):
    """Softmax cross-entropy of logits against class indices or probabilities.

    Per sample, with p = softmax(logits) along ``axis``, t the (smoothed) target, cw the class
    weights and w the sample weight: l = -w sum_c cw_c t_c log p_c, PyTorch's
    ``F.cross_entropy`` (scikit-learn's ``HalfMultinomialLoss`` for plain targets), within
    4 ulp of the exact value for every finite logit: log-sum-exp with the maximum shifted out
    and log1p of the rest, so that a dominant class at margin 40 costs 4.2e-18, not 0, and two
    classes [0, x] give exactly BCE's softplus.

    Parameters
    ----------
    %(y_true)s
    %(logits)s
    %(axis)s
    %(sample_weight)s
    %(class_weight)s
    %(label_smoothing)s
    %(ignore_index)s
    %(reduction)s
    %(n_threads)s

    Returns
    -------
    loss : float or ndarray
        A Python float accumulated in float64, bitwise identical for every thread count and
        memory layout; for reduction="none" the per-sample losses, of logits' shape without
        ``axis`` and the compute dtype.

    Raises
    ------
    %(raises)s

    See Also
    --------
    cross_entropy_loss_and_grad : the loss and its gradient in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    >>> round(cbce.cross_entropy(np.array([0, 2]), logits), 10)
    0.1681171265
    >>> cbce.cross_entropy(np.array([0, 2]), logits, reduction="none")
    array([0.2413113 , 0.09492296])
    >>> round(cbce.cross_entropy(np.array([0, -100]), logits, ignore_index=-100), 10)
    0.2413112967
    >>> bool(cbce.cross_entropy(1, np.array([0.0, 40.0])) > 0)  # 4.2e-18, as BCE
    True
    """
    loss, _ = _run(_OP["loss"], y_true, logits, axis, sample_weight, class_weight,
                   label_smoothing, ignore_index, reduction, n_threads, None, True)
    return loss


@_docs.filler(_docs.CE)
def cross_entropy_grad(y_true, logits, *, axis=-1, sample_weight=None, class_weight=None,
                       label_smoothing=0.0, ignore_index=None, reduction="mean", n_threads=None,
                       out=None):
    """Gradient of ``cross_entropy`` with respect to the logits (same options).

    W softmax(x) - cw t per sample, W = sum_c cw_c t_c: softmax(x) - y for plain targets;
    times the sample weight, divided like the loss's reduction. The element at a row's
    maximum is formed as ((W - a) - a S') / S, so a confident correct prediction keeps the
    digits of its tiny gradient (-4.2e-18 at margin 40, not 0).

    Parameters
    ----------
    %(y_true)s
    %(logits)s
    %(axis)s
    %(sample_weight)s
    %(class_weight)s
    %(label_smoothing)s
    %(ignore_index)s
    %(reduction)s
    %(n_threads)s
    %(out)s

    Returns
    -------
    grad : ndarray
        Of logits' shape and the compute dtype (``out`` when given).

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> cbce.cross_entropy_grad(np.array([0, 2]), np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]]),
    ...                         reduction="sum")
    array([[-0.21440297,  0.17529039,  0.03911257],
           [ 0.0452785 ,  0.0452785 , -0.090557  ]])
    """
    _, grad = _run(_OP["grad"], y_true, logits, axis, sample_weight, class_weight,
                   label_smoothing, ignore_index, reduction, n_threads, out, False)
    return grad


@_docs.filler(_docs.CE)
def cross_entropy_loss_and_grad(y_true, logits, *, axis=-1, sample_weight=None, class_weight=None,
                                label_smoothing=0.0, ignore_index=None, reduction="mean",
                                n_threads=None, out=None):
    """``(cross_entropy(...), cross_entropy_grad(...))`` in one pass over the logits.

    One read of the logits and one write of the gradient per row, the row kept in L1 between
    the max, the exp and the gradient sweeps: what a softmax output layer's training step
    needs.

    Parameters
    ----------
    %(y_true)s
    %(logits)s
    %(axis)s
    %(sample_weight)s
    %(class_weight)s
    %(label_smoothing)s
    %(ignore_index)s
    %(reduction)s
    %(n_threads)s
    %(out)s

    Returns
    -------
    loss : float or ndarray
        As ``cross_entropy`` returns it.
    grad : ndarray
        As ``cross_entropy_grad`` returns it.

    Raises
    ------
    %(raises)s

    Examples
    --------
    >>> import numpy as np
    >>> import cbce
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((3000, 5)); y = np.argmax(X[:, :3], axis=1)
    >>> W = np.zeros((5, 3))
    >>> for _ in range(200):  # multinomial logistic regression
    ...     loss, g = cbce.cross_entropy_loss_and_grad(y, X @ W)
    ...     W -= 2.0 * (X.T @ g)
    >>> bool(loss < 0.2)
    True
    """
    return _run(_OP["loss_grad"], y_true, logits, axis, sample_weight, class_weight,
                label_smoothing, ignore_index, reduction, n_threads, out, True)
