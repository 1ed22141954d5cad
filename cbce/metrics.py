"""scikit-learn's ``log_loss`` for binary and multi-class problems, on cbce's kernel
(docs/guide/sklearn.md).

A drop-in for ``sklearn.metrics.log_loss`` (checked against scikit-learn 1.9): the same signature,
the same label mapping (scikit-learn's LabelBinarizer: the classes sorted, the larger one
positive), the same clipping (``finfo(dtype).eps``), the same weighting and the same errors for
bad input. Only the validation and the label mapping are done here; the loss is one call of
``cbce.bce`` with ``eps`` (the clip), fused range checks and a deterministic float64 sum.

Two-column probabilities (``predict_proba`` output) are scored as scikit-learn scores them,
column by column, in that same single call: with y_true = 1 the kernel's per-element loss is
-w·pw·log(clip(x)), so the one-hot labels go in as ``pos_weight`` over the (n, 2) array.

Multi-class input (K > 2 classes or columns) is scored as scikit-learn scores it: the classes
are LabelBinarizer's (the sorted distinct labels of y_true, or of ``labels``), column k of
y_proba is class k, K must equal y_proba.shape[1], rows are not renormalised (a warning when
they do not sum to one). Each sample's loss is -log(clip(P[i, idx_i])), so the kernel gets the
gathered probabilities of the true classes with y_true = 1 (one ``cbce.bce`` call).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np

from cbce._api import _numeric, bce

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["log_loss"]

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


class _NotBinary(Exception):
    """Raised by the binary label mapping when there are more than two classes: log_loss
    catches it and scores the problem on the multi-class path."""


def _probabilities(y_proba):
    """(p, eps): y_proba as a float array of ndim 1 (positive class) or 2 (two columns), and
    scikit-learn's clip, finfo(dtype).eps of the dtype scikit-learn would compute in."""
    p = _numeric(y_proba, "y_proba")
    if p.ndim == 0:
        raise ValueError(f"y_proba must be an array of shape (n_samples,) or (n_samples, 2); "
                         f"got the scalar {p.item()!r}")
    if p.ndim > 2:
        raise ValueError(f"y_proba must have 1 or 2 dimensions; got shape {p.shape}")
    if p.shape[0] == 0:
        raise ValueError(f"y_proba holds no sample (shape {p.shape}); at least 1 is required")
    # scikit-learn keeps float16/32/64 and converts the rest to float64. cbce computes float16
    # in float32 (more exact than scikit-learn's float16 arithmetic) but clips at float16's eps.
    dtype = p.dtype if p.dtype in (_F16, _F32, _F64) else _F64
    eps = float(np.finfo(dtype).eps)
    if dtype != p.dtype or dtype == _F16:
        p = p.astype(_F32 if dtype == _F16 else _F64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    return p, eps


def _labels_1d(y_true):
    """y_true as a 1-D array of labels, or a 2-D (n, 2) indicator matrix."""
    y = y_true if isinstance(y_true, np.ndarray) else np.asarray(y_true)
    if y.ndim == 0:
        raise ValueError(f"y_true must be an array of labels; got the scalar {y.item()!r}")
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim == 2:
        if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
            raise ValueError("y_true as a 2-D array must be a label indicator matrix of 0s and "
                             f"1s (multioutput targets are not supported); got shape {y.shape} "
                             f"and dtype {y.dtype}")
        return y
    if y.ndim > 2:
        raise ValueError(f"y_true must be 1-D (or a 2-D indicator matrix); got shape {y.shape}")
    return y


def _class_name(c):
    return str(c.item() if isinstance(c, np.generic) else c)


def _check_classes(classes, from_labels):
    if classes.size > 2:
        raise _NotBinary
    if classes.size < 2:
        if from_labels:
            raise ValueError(f"The labels array needs to contain at least two labels, "
                             f"got {classes.tolist()}.")
        raise ValueError(f"y_true contains only one label ({_class_name(classes[0])}). Please "
                         "provide the list of all expected class labels explicitly through "
                         "the labels argument.")


def _check_label_type(uniq):
    """scikit-learn's type_of_target: float labels must be whole numbers, and none NaN."""
    if uniq.dtype.kind == "f":
        if np.isnan(uniq).any():
            raise ValueError("Input y_true contains NaN.")
        if not np.all(uniq == np.round(uniq)):
            raise ValueError(f"Unknown label type: y_true holds continuous values "
                             f"({uniq[:5].tolist()}...); log_loss needs class labels")


def _positive_generic(y, labels):
    """t (bool, positive class) by sorting the labels: strings, objects, mixed cases."""
    uniq = np.unique(y)  # sorts; TypeError for unorderable mixed objects, as in scikit-learn
    if labels is None:
        _check_label_type(uniq)
        classes = uniq
    else:
        classes = np.unique(np.asarray(labels))
        _check_classes(classes, True)
        undeclared = uniq[~np.isin(uniq, classes)]
        if undeclared.size:
            raise ValueError(f"y_true contains values {set(undeclared.tolist())} not belonging "
                             f"to the passed labels {list(labels)}.")
    _check_classes(classes, labels is not None)
    return y == classes[1]


def _positive(y, labels):
    """1-D y_true mapped to the positive-class indicator t the kernel takes as y_true.

    Numeric labels take a fast path (min, max and at most two counts; no sort), and y_true
    goes to the kernel as it is when it already holds 0 and 1. scikit-learn sorts
    (np.unique): 19 ms at n = 10^6 int64, several times cbce's whole log_loss.
    """
    n = y.shape[0]
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1:
            raise ValueError(f"labels must be 1-D; got shape {lab.shape}")
        classes = np.unique(lab)
        _check_classes(classes, True)
        if not np.array_equal(classes, lab):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that "
                "the columns of y_prob correspond to this ordering.", UserWarning, stacklevel=3)
        if y.dtype.kind not in "biuf" or classes.dtype.kind not in "biuf":
            return _positive_generic(y, labels)
        lo, hi = classes
    else:
        if y.dtype.kind not in "biuf":
            return _positive_generic(y, None)
        if n == 0:
            raise ValueError("y_true holds no sample; at least 1 is required")
        lo, hi = y.min(), y.max()
        if y.dtype.kind == "f" and not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("Input y_true contains NaN." if np.isnan(lo) or np.isnan(hi)
                             else "Input y_true contains infinity.")
        if lo == hi:
            _check_classes(np.asarray([lo]), False)
        if y.dtype.kind == "f" and not (float(lo).is_integer() and float(hi).is_integer()):
            return _positive_generic(y, None)  # raises: continuous labels
    if labels is None and (y.dtype.kind == "b" or
                           (y.dtype.kind in "iu" and int(hi) - int(lo) == 1)):
        binary = True  # bools, and integers between consecutive values, take only lo and hi
    else:
        n_lo = n - np.count_nonzero(y) if lo == 0 else np.count_nonzero(y == lo)
        binary = n_lo + np.count_nonzero(y == hi) == n
    if not binary:
        return _positive_generic(y, labels)  # raises: more classes, or undeclared labels
    if lo == 0 and hi == 1:
        return y  # already the indicator: no copy (the kernel reads bool/int/float)
    return y == hi


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    w = _numeric(sample_weight, "sample_weight")
    if w.ndim != 1:
        raise ValueError(f"sample_weight must be a 1-D array of length n_samples = {n}; "
                         f"got shape {w.shape}")
    return w


def _check_weights_after(w, value, normalize):
    """Weight errors scikit-learn raises up front, looked for only when the result shows one
    (a NaN or infinite weight, or all weights zero, always give a non-finite or zero result:
    the clipped per-sample losses are finite and positive)."""
    if w is None or (math.isfinite(value) and value != 0.0):
        return
    if np.isnan(w).any():
        raise ValueError("Input sample_weight contains NaN.")
    if np.isinf(w).any():
        raise ValueError("Input sample_weight contains infinity.")
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if normalize and w.sum(dtype=np.float64) == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")


def _proba_range_error(p, exc):
    """scikit-learn's message for the probability the kernel's fused check rejected."""
    if np.isnan(p).any():
        return ValueError("Input contains NaN.")
    if np.isinf(p).any():
        return ValueError(f"Input contains infinity or a value too large for "
                          f"dtype('{p.dtype}').")
    if p.max() > 1:
        return ValueError(f"y_prob contains values greater than 1: {p.max()}")
    if p.min() < 0:
        return ValueError(f"y_prob contains values lower than 0: {p.min()}")
    return exc  # pragma: no cover - the kernel rejects nothing else here


def _warn_if_rows_do_not_sum_to_one(p, eps, stacklevel=3):
    # scikit-learn's test: isclose(row sum, 1, rtol=sqrt(eps)) with array-api-extra's default
    # atol=1e-8. min/max of the sums need one temporary, not three.
    s = p[:, 0] + p[:, 1] if p.shape[1] == 2 else p.sum(axis=1)
    tol = 1e-8 + math.sqrt(eps)
    if s.min() < 1 - tol or s.max() > 1 + tol:
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=stacklevel)


def _check_proba_range(p):
    """scikit-learn's checks of the whole y_proba, made up front on the multi-class path (the
    kernel sees only the true classes' probabilities there)."""
    if p.size == 0:
        return
    lo, hi = p.min(), p.max()
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi > 1 or lo < 0:
        raise _proba_range_error(p, None)


def _multiclass_indices(y, labels):
    """(classes, idx): LabelBinarizer's classes (sorted) and each sample's column index."""
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1:
            raise ValueError(f"labels must be 1-D; got shape {lab.shape}")
        classes = np.unique(lab)
        if classes.shape != lab.shape or not np.array_equal(classes, lab):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that "
                "the columns of y_prob correspond to this ordering.", UserWarning, stacklevel=4)
        known = np.isin(y, classes)
        if not known.all():
            raise ValueError(f"y_true contains values {set(np.unique(y[~known]).tolist())} not "
                             f"belonging to the passed labels {list(labels)}.")
        _check_classes_multiclass(classes, True)
        idx = np.searchsorted(classes, y)
    else:
        classes, idx = np.unique(y, return_inverse=True)
        _check_label_type(classes)
        _check_classes_multiclass(classes, False)
    return classes, idx.reshape(-1)


def _check_classes_multiclass(classes, from_labels):
    try:
        _check_classes(classes, from_labels)
    except _NotBinary:
        pass


def _log_loss_multiclass(y, p, w, labels, eps, normalize):
    """scikit-learn's log_loss for K classes: the mean (or sum) of -log(clip(P[i, idx_i]))."""
    _check_proba_range(p)
    if y.ndim == 2:  # label indicator matrix: its columns are the classes
        classes, idx = np.arange(y.shape[1]), None
    else:
        classes, idx = _multiclass_indices(y, labels)
    if p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)  # scikit-learn's columns for a 1-D y_proba
    _warn_if_rows_do_not_sum_to_one(p, eps, stacklevel=4)
    k = classes.shape[0]
    if k != p.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {k} vs {p.shape[1]}. "
                "Please provide the true labels explicitly through the labels argument. "
                f"Classes found in y_true: {classes}")
        raise ValueError("The number of classes in labels is different from that in y_prob. "
                         f"Classes found in labels: {classes}")
    # (No annotation here: this helper is untyped, and mypy's note about an annotation in an
    # unchecked body stops stubtest.)
    reduction = "sum" if not normalize else ("mean" if w is None else "weighted_mean")
    if idx is not None:
        # One-hot labels: only the true class's column contributes, -log(clip(P[i, idx_i])).
        q = p[np.arange(p.shape[0]), idx]
        ones = np.broadcast_to(np.ones((), q.dtype), q.shape)
        value = bce(ones, q, sample_weight=w, eps=eps, reduction=reduction)
    else:  # indicator rows may hold several 1s: scikit-learn sums -y·log(p) over the columns
        ones = np.broadcast_to(np.ones((), p.dtype), p.shape)
        value = bce(ones, p, pos_weight=y, sample_weight=None if w is None else w[:, None],
                    eps=eps, reduction=reduction)
        if normalize:
            value *= k  # the kernel divides by n·K (or K·Σw): one loss per row, not per cell
    _check_weights_after(w, value, normalize)
    return value


def log_loss(y_true: ArrayLike, y_proba: ArrayLike | None = None, *, normalize: bool = True,
             sample_weight: ArrayLike | None = None, labels: ArrayLike | None = None,
             y_pred: ArrayLike | str = "deprecated") -> float:
    r"""Log loss (logistic loss, cross-entropy) of classification probabilities.

    scikit-learn's ``sklearn.metrics.log_loss`` for two or more classes, computed by cbce's kernel:
    the same arguments, label mapping, clipping and errors, results equal to 1e-12 and 20-50x
    faster for numeric labels at 10^6 samples (README, "Ecosystem"). For a sample with positive-class indicator
    :math:`t \in \{0, 1\}` and predicted probability :math:`p` of the positive class,

    .. math:: L(t, p) = -(t \log p' + (1 - t) \log(1 - p')), \quad
              p' = \min(\max(p, \epsilon), 1 - \epsilon)

    with :math:`\epsilon` = ``np.finfo(y_proba.dtype).eps`` (scikit-learn's current clip;
    PyTorch clamps the log at -100 instead, see ``cbce.bce``). The result is the mean over the
    samples, weighted by ``sample_weight`` (:math:`\sum_i w_i L_i / \sum_i w_i`), or the sum.

    With K > 2 classes (more than two distinct labels, or ``labels``, or y_proba columns) a
    sample of class k costs :math:`-\log \min(\max(P_{ik}, \epsilon), 1 - \epsilon)`, as in
    scikit-learn: column k of ``y_proba`` is the k-th of the sorted classes, K must equal
    ``y_proba.shape[1]`` and the rows are not renormalised (a warning when they do not sum to 1).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, of any type scikit-learn accepts (ints, bools, strings, {-1, 1}, ...). The
        classes are the sorted distinct labels (or ``labels``); with two, the second one is
        positive. A (n_samples, K) 0/1 indicator matrix is accepted too.
    y_proba : array-like of shape (n_samples,) or (n_samples, K)
        Predicted probabilities: of the positive class (binary only), or one column per class in
        sorted class order (``predict_proba`` output). Clipped to [eps, 1 - eps] with
        eps = ``np.finfo(dtype).eps``; float16 is clipped at its eps and computed in float32.
    normalize : bool, default=True
        If True, return the (weighted) mean loss per sample, else the sum of the per-sample
        losses (weighted by ``sample_weight``).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights. Negative weights are allowed, as in scikit-learn.
    labels : array-like, default=None
        The classes, when ``y_true`` may not show them all (e.g. a batch of one class).
    y_pred : array-like
        Deprecated: the name of ``y_proba`` before scikit-learn 1.9, accepted with
        scikit-learn's FutureWarning (its removal is due in scikit-learn 1.11).

    Returns
    -------
    loss : float
        The log loss, accumulated in float64 (deterministic for every thread count).

    Raises
    ------
    ValueError
        With scikit-learn's message for: y_true with one class only and no ``labels``, labels
        of ``y_true`` missing from ``labels``, probabilities outside [0, 1], NaN or infinite,
        inconsistent lengths, continuous ``y_true``, all-zero sample weights, and a number of
        classes (in ``y_true`` or ``labels``) other than the number of ``y_proba`` columns.
    ZeroDivisionError
        When ``normalize`` is True and the sample weights sum to zero.

    Warns
    -----
    UserWarning
        When the rows of a 2-D ``y_proba`` do not sum to one, or ``labels`` is not
        sorted, as in scikit-learn.

    See Also
    --------
    cbce.bce : the loss with every option (logits, pos_weight, label smoothing, reductions).

    Notes
    -----
    For one-column probabilities cbce computes :math:`\log(1 - p)` as ``log1p(-p)``, where
    scikit-learn rounds :math:`1 - p` first: the two agree to 1.1e-16 per sample, and cbce's is
    the exact one.

    Examples
    --------
    >>> from cbce.metrics import log_loss
    >>> round(log_loss(["spam", "ham", "ham", "spam"],
    ...                [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 12)
    0.216161874681
    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6], sample_weight=[1.0, 2.0, 1.0]), 12)
    0.265618310513
    >>> round(log_loss([1, 1], [0.9, 0.8], labels=[0, 1]), 12)  # one class: name both
    0.164252033486
    >>> round(log_loss(["b", "a", "c"], [[.2, .7, .1], [.6, .3, .1], [.1, .1, .8]]), 12)
    0.363548039673
    """
    # scikit-learn 1.9's deprecation of y_pred, with its texts.
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, "
                             "use `y_proba` instead.")
        warnings.warn("`y_pred` was renamed to `y_proba` in version 1.9 and will be removed "
                      "in 1.11. Use `y_proba` instead.", FutureWarning, stacklevel=2)
        y_proba = y_pred
    elif y_proba is None:
        raise TypeError("log_loss() missing the argument 'y_proba' (the predicted probabilities)")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be a bool; got {normalize!r}")
    if sample_weight is not None and isinstance(sample_weight, numbers.Number):
        raise TypeError(f"sample_weight must be an array-like of shape (n_samples,) or None; "
                        f"got {sample_weight!r}")

    p, eps = _probabilities(y_proba)
    y = _labels_1d(y_true)
    w = _check_sample_weight(sample_weight, p.shape[0])
    lengths = [p.shape[0], y.shape[0]] + ([] if w is None else [w.shape[0]])
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")

    if (p.ndim == 2 and p.shape[1] != 2) or (y.ndim == 2 and y.shape[1] != 2):
        return _log_loss_multiclass(y, p, w, labels, eps, normalize)
    if y.ndim == 2:
        t2 = y  # indicator matrix, scored column by column
    else:
        try:
            t = _positive(y, labels)
        except _NotBinary:  # more than two classes: y_proba must have as many columns
            return _log_loss_multiclass(y, p, w, labels, eps, normalize)
        t2 = None
        if p.ndim == 2 and np.array_equal(p[:, 0], 1 - p[:, 1]):
            # predict_proba's usual columns [1 - p, p]: score p alone (a strided view), as for
            # a 1-D y_proba. One comparison pass instead of the one-hot array, the row-sum
            # check and a kernel pass over 2n elements (1.4-1.5x faster at n = 10^6).
            p = p[:, 1]
        elif p.ndim == 2:  # one-hot of t, the (n, 2) pos_weight below
            t2 = np.empty(p.shape, p.dtype)
            t2[:, 1] = t
            np.subtract(1, t2[:, 1], out=t2[:, 0])
    if t2 is not None and p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)  # scikit-learn's columns for a 1-D y_proba
    elif p.ndim == 2:
        _warn_if_rows_do_not_sum_to_one(p, eps)

    # (No annotation here: this helper is untyped, and mypy's note about an annotation in an
    # unchecked body stops stubtest.)
    reduction = "sum" if not normalize else ("mean" if w is None else "weighted_mean")
    try:
        if t2 is None:
            value = bce(t, p, sample_weight=w, eps=eps, reduction=reduction)
        else:
            ones = np.broadcast_to(np.ones((), p.dtype), p.shape)
            value = bce(ones, p, pos_weight=t2, sample_weight=None if w is None else w[:, None],
                        eps=eps, reduction=reduction)
            if normalize:
                value *= 2.0  # the kernel divides by 2n (or 2·Σw): one loss per row, not per cell
    except ValueError as exc:
        raise _proba_range_error(p, exc) from exc
    _check_weights_after(w, value, normalize)
    return value
