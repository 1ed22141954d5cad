"""BCE objective and log-loss metric for XGBoost, from cbce's kernels (docs/guide/gbdt.md).

Example::

    import xgboost as xgb, cbce.xgboost
    booster = xgb.train({"base_score": 0.0}, dtrain, 100,
                        obj=cbce.xgboost.objective(pos_weight=5.0),
                        custom_metric=cbce.xgboost.metric())
    clf = xgb.XGBClassifier(objective=cbce.xgboost.sklearn_objective(label_smoothing=0.1))

objective / metric: xgb.train's signatures obj(predt, dtrain) -> (grad, hess) and
custom_metric(predt, dtrain) -> (name, value). sklearn_objective / sklearn_metric: the
scikit-learn wrapper's obj(y_true, y_pred, sample_weight=None) -> (grad, hess) and
eval_metric(y_true, y_pred, sample_weight=None) -> value (its name is the callable's __name__).
Labels and sample weights come from the DMatrix. XGBoost hands a custom objective raw margins
(logits), and a custom metric raw margins too whenever the objective is custom: hence the
metric's default from_logits=True; pass from_logits=False next to a built-in objective.

With a custom objective, xgb.train uses base_score as a raw margin (default 0.5, not the
logit of 0.5): pass base_score=0 (or the logit of the base rate) to start where
binary:logistic does. XGBClassifier sets binary:logistic underneath and estimates base_score
from the labels as the built-in does. Hessian floor: cbce/_gbdt.py (1e-16, XGBoost's own).
This module does not import xgboost.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cbce import _gbdt

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    _GradHess = tuple[NDArray[Any], NDArray[Any]]

__all__ = ["objective", "metric", "sklearn_objective", "sklearn_metric"]


class _Objective(_gbdt.Objective):
    api = "cbce.xgboost.objective"

    def __call__(self, predt: NDArray[Any], dtrain: Any) -> _GradHess:
        return self.grad_hess(dtrain.get_label(), predt, dtrain.get_weight())


class _SklearnObjective(_gbdt.Objective):
    api = "cbce.xgboost.sklearn_objective"

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 sample_weight: ArrayLike | None = None) -> _GradHess:
        return self.grad_hess(y_true, y_pred, sample_weight)


class _Metric(_gbdt.Metric):
    api = "cbce.xgboost.metric"

    def __call__(self, predt: NDArray[Any], dmatrix: Any) -> tuple[str, float]:
        return self.name, self.value(dmatrix.get_label(), predt, dmatrix.get_weight())


class _SklearnMetric(_gbdt.Metric):
    api = "cbce.xgboost.sklearn_metric"

    @property
    def __name__(self) -> str:  # XGBModel names a callable eval_metric by its __name__
        return self.name

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 sample_weight: ArrayLike | None = None) -> float:
        return self.value(y_true, y_pred, sample_weight)


def objective(*, pos_weight: ArrayLike | None = None, label_smoothing: float = 0.0,
              hess_floor: float = _gbdt.HESS_FLOOR, n_threads: int | None = None) -> _Objective:
    """xgb.train(obj=...): BCE of the margins, grad and hess from one cbce.bce_grad_hess pass.

    pos_weight reproduces scale_pos_weight (a number, or an array per sample); label_smoothing
    as in cbce.bce; labels may be soft (in [0, 1]). Hessians are floored at
    hess_floor·w·(pw·y + 1 − y), as binary:logistic does with 1e-16.
    """
    return _Objective(pos_weight=pos_weight, label_smoothing=label_smoothing,
                      hess_floor=hess_floor, n_threads=n_threads)


def sklearn_objective(*, pos_weight: ArrayLike | None = None, label_smoothing: float = 0.0,
                      hess_floor: float = _gbdt.HESS_FLOOR,
                      n_threads: int | None = None) -> _SklearnObjective:
    """XGBClassifier(objective=...): objective(...) in the wrapper's signature
    obj(y_true, y_pred, sample_weight=None)."""
    return _SklearnObjective(pos_weight=pos_weight, label_smoothing=label_smoothing,
                             hess_floor=hess_floor, n_threads=n_threads)


def metric(*, from_logits: bool = True, pos_weight: ArrayLike | None = None,
           label_smoothing: float = 0.0, eps: float | None = None, name: str = "cbce_logloss",
           n_threads: int | None = None) -> _Metric:
    """xgb.train(custom_metric=...): (name, Σ w·l / Σ w), XGBoost's logloss for margins
    (from_logits=True, with a custom objective) or probabilities (from_logits=False)."""
    return _Metric(from_logits=from_logits, pos_weight=pos_weight,
                   label_smoothing=label_smoothing, eps=eps, name=name, n_threads=n_threads)


def sklearn_metric(*, from_logits: bool = True, pos_weight: ArrayLike | None = None,
                   label_smoothing: float = 0.0, eps: float | None = None,
                   name: str = "cbce_logloss", n_threads: int | None = None) -> _SklearnMetric:
    """XGBClassifier(eval_metric=...): metric(...) as value = f(y_true, y_pred, sample_weight)."""
    return _SklearnMetric(from_logits=from_logits, pos_weight=pos_weight,
                          label_smoothing=label_smoothing, eps=eps, name=name,
                          n_threads=n_threads)
