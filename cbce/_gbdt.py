"""Shared core of cbce.xgboost and cbce.lightgbm: BCE objectives and log-loss metrics (docs/guide/gbdt.md).

Both libraries call a custom objective with raw margins (logits) and expect the per-sample
gradient and hessian of the loss with respect to them; the sample weights come from their
DMatrix/Dataset. One cbce.bce_grad_hess(..., reduction="none") call gives both in one pass.
Neither library is imported here: the wrappers only call methods of the objects they are given.

Hessian floor. The BCE hessian w·(pw·y + 1 − y)·σ(x)σ(−x) is positive for every finite margin
in exact arithmetic, but rounds to 0 where σ(x)σ(−x) underflows: |x| > ~745 in float64, and
|x| > ~103 once XGBoost/LightGBM store it as float32 (below 1.4e-45). A zero hessian makes a
leaf's Newton step −G/H depend on the regularisation alone. XGBoost's binary:logistic floors
σσ at 1e-16 before applying the weight (scale_pos_weight included), so the default hess_floor
is that constant, applied the same way: hess = max(hess, hess_floor·w·(pw·y + 1 − y)). It only
acts where σσ < 1e-16, i.e. |margin| > 36.8: it does not change a fit that stays below that
(the parity tests), and it keeps every hessian of a positively weighted sample positive.
LightGBM's binary objective has no floor; its leaves are guarded by min_sum_hessian_in_leaf
(1e-3) instead. hess_floor=0 turns the floor off.
"""
from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

import cbce
from cbce import _api

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

# XGBoost's binary:logistic hessian floor (src/objective/regression_loss.h,
# LogisticRegression::SecondOrderGradient: std::max(predt * (1.0f - predt), eps), eps = 1e-16f;
# the sample weight, times scale_pos_weight for positives, multiplies it afterwards).
HESS_FLOOR = 1e-16


def _real(value: Any, name: str, lo: float | None = None) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) \
            or not math.isfinite(value) or (lo is not None and value < lo):
        bound = "" if lo is None else f" >= {lo}"
        raise ValueError(f"{name} must be a finite real number{bound}; got {value!r}")
    return float(value)


def _weight_or_none(w: ArrayLike | None) -> NDArray[Any] | None:
    """DMatrix.get_weight() returns an empty array when there are no weights."""
    if w is None:
        return None
    w = np.asarray(w)
    return None if w.size == 0 else w


def _labels_like(y: ArrayLike, preds: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    y = np.asarray(y)
    preds = np.asarray(preds)
    if y.shape != preds.shape:
        if y.size != preds.size:
            raise ValueError(f"labels and predictions must have the same number of elements; got "
                             f"{y.size} labels and predictions of shape {preds.shape} (binary, "
                             f"single-target objectives only)")
        y = y.reshape(preds.shape)
    return y, preds


def _kwargs_repr(pairs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in pairs)


class Objective:
    """Gradient and hessian of the BCE of raw margins (one cbce pass), floored (module note)."""

    api: str = ""  # "cbce.<module>.<factory>", for repr

    def __init__(self, *, pos_weight: ArrayLike | None = None, label_smoothing: float = 0.0,
                 hess_floor: float = HESS_FLOOR, n_threads: int | None = None) -> None:
        _api._check_options("none", n_threads, label_smoothing)
        self.pos_weight = pos_weight if pos_weight is None or np.ndim(pos_weight) else \
            _real(pos_weight, "pos_weight")
        self.label_smoothing = float(label_smoothing)
        self.hess_floor = _real(hess_floor, "hess_floor", lo=0.0)
        self.n_threads = n_threads

    def grad_hess(self, y_true: ArrayLike, margins: ArrayLike, sample_weight: ArrayLike | None = None
                  ) -> tuple[NDArray[Any], NDArray[Any]]:
        y, x = _labels_like(y_true, margins)
        w = _weight_or_none(sample_weight)
        grad, hess = cbce.bce_grad_hess(y, x, sample_weight=w, pos_weight=self.pos_weight,
                                        label_smoothing=self.label_smoothing, reduction="none",
                                        n_threads=self.n_threads)
        if self.hess_floor > 0.0:
            self._floor(hess, y, w)
        return grad, hess

    def _floor(self, hess: NDArray[Any], y: NDArray[Any], w: NDArray[Any] | None) -> None:
        # floor·w·(pw·y + 1 − y), y smoothed as the kernel smooths it; a scalar when unweighted.
        lo: Any = self.hess_floor
        if self.pos_weight is not None:
            ls = self.label_smoothing
            ys = np.asarray(y, dtype=np.float64) * (1.0 - ls) + 0.5 * ls
            lo = lo * (1.0 + (np.asarray(self.pos_weight, dtype=np.float64) - 1.0) * ys)
        if w is not None:
            lo = lo * np.asarray(w, dtype=np.float64)
        np.maximum(hess, lo, out=hess, dtype=np.float64, casting="same_kind")

    def _options(self) -> list[tuple[str, Any]]:
        return [("pos_weight", self.pos_weight), ("label_smoothing", self.label_smoothing),
                ("hess_floor", self.hess_floor), ("n_threads", self.n_threads)]

    def __repr__(self) -> str:
        return f"{self.api}({_kwargs_repr(self._options())})"


class Metric:
    """Log loss Σ w·l / Σ w of margins (from_logits=True) or probabilities."""

    api: str = ""

    def __init__(self, *, from_logits: bool = True, pos_weight: ArrayLike | None = None,
                 label_smoothing: float = 0.0, eps: float | None = None,
                 name: str = "cbce_logloss", n_threads: int | None = None) -> None:
        if not isinstance(from_logits, (bool, np.bool_)):
            raise TypeError(f"from_logits must be a bool; got {from_logits!r}")
        _api._check_options("weighted_mean", n_threads, label_smoothing)
        _api._check_eps(eps, from_logits, np.dtype(np.float64))
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str; got {name!r}")
        self.from_logits = bool(from_logits)
        self.pos_weight = pos_weight
        self.label_smoothing = float(label_smoothing)
        self.eps = eps
        self.name = name
        self.n_threads = n_threads

    def value(self, y_true: ArrayLike, preds: ArrayLike,
              sample_weight: ArrayLike | None = None) -> float:
        y, x = _labels_like(y_true, preds)
        return cbce.bce(y, x, from_logits=self.from_logits,
                        sample_weight=_weight_or_none(sample_weight), pos_weight=self.pos_weight,
                        label_smoothing=self.label_smoothing, eps=self.eps,
                        reduction="weighted_mean", n_threads=self.n_threads)

    def _options(self) -> list[tuple[str, Any]]:
        return [("from_logits", self.from_logits), ("pos_weight", self.pos_weight),
                ("label_smoothing", self.label_smoothing), ("eps", self.eps),
                ("name", self.name), ("n_threads", self.n_threads)]

    def __repr__(self) -> str:
        return f"{self.api}({_kwargs_repr(self._options())})"
