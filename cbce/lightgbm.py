"""BCE objective and log-loss metric for LightGBM, from cbce's kernels (docs/guide/gbdt.md).

Example::

    import lightgbm as lgb, cbce.lightgbm
    booster = lgb.train({"objective": cbce.lightgbm.objective(pos_weight=5.0)}, train_set, 100,
                        valid_sets=[valid_set], feval=cbce.lightgbm.metric())
    clf = lgb.LGBMClassifier(objective=cbce.lightgbm.sklearn_objective(label_smoothing=0.1))

objective / metric: lgb.train's signatures objective(preds, train_data) -> (grad, hess) and
feval(preds, eval_data) -> (name, value, is_higher_better=False). sklearn_objective /
sklearn_metric: the scikit-learn wrapper's objective(y_true, y_pred, weight) -> (grad, hess) and
eval_metric(y_true, y_pred, weight) -> (name, value, False). Labels and weights come from the
Dataset. LightGBM hands a custom objective raw scores (logits), and feval raw scores too when
the objective is custom: hence the metric's default from_logits=True; pass from_logits=False
next to the built-in "binary" objective (feval then gets probabilities).

With a custom objective LightGBM starts from a score of 0 (no boost_from_average): the
built-in "binary" with boost_from_average=False starts there too; otherwise pass init_score.
LGBMClassifier.predict_proba returns raw scores with a custom objective (LightGBM warns):
apply scipy.special.expit. Hessian floor: cbce/_gbdt.py (1e-16 by default; LightGBM's own
binary objective has none, hess_floor=0 matches it exactly). This module does not import
lightgbm.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cbce import _gbdt

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    _GradHess = tuple[NDArray[Any], NDArray[Any]]

__all__ = ["objective", "metric", "sklearn_objective", "sklearn_metric"]


class _Objective(_gbdt.Objective):
    api = "cbce.lightgbm.objective"

    def __call__(self, preds: NDArray[Any], train_data: Any) -> _GradHess:
        return self.grad_hess(train_data.get_label(), preds, train_data.get_weight())


class _SklearnObjective(_gbdt.Objective):
    api = "cbce.lightgbm.sklearn_objective"

    # LightGBM passes the weights when the callable takes three parameters.
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 weight: ArrayLike | None = None) -> _GradHess:
        return self.grad_hess(y_true, y_pred, weight)


class _Metric(_gbdt.Metric):
    api = "cbce.lightgbm.metric"

    def __call__(self, preds: NDArray[Any], eval_data: Any) -> tuple[str, float, bool]:
        return self.name, self.value(eval_data.get_label(), preds, eval_data.get_weight()), False


class _SklearnMetric(_gbdt.Metric):
    api = "cbce.lightgbm.sklearn_metric"

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 weight: ArrayLike | None = None) -> tuple[str, float, bool]:
        return self.name, self.value(y_true, y_pred, weight), False


def objective(*, pos_weight: ArrayLike | None = None, label_smoothing: float = 0.0,
              hess_floor: float = _gbdt.HESS_FLOOR, n_threads: int | None = None) -> _Objective:
    """lgb.train({"objective": ...}): BCE of the raw scores, grad and hess from one
    cbce.bce_grad_hess pass.

    pos_weight reproduces scale_pos_weight (a number, or an array per sample); label_smoothing
    as in cbce.bce; labels may be soft (in [0, 1]). Hessians are floored at
    hess_floor·w·(pw·y + 1 − y).
    """
    return _Objective(pos_weight=pos_weight, label_smoothing=label_smoothing,
                      hess_floor=hess_floor, n_threads=n_threads)


def sklearn_objective(*, pos_weight: ArrayLike | None = None, label_smoothing: float = 0.0,
                      hess_floor: float = _gbdt.HESS_FLOOR,
                      n_threads: int | None = None) -> _SklearnObjective:
    """LGBMClassifier(objective=...): objective(...) in the wrapper's signature
    obj(y_true, y_pred, weight)."""
    return _SklearnObjective(pos_weight=pos_weight, label_smoothing=label_smoothing,
                             hess_floor=hess_floor, n_threads=n_threads)


def metric(*, from_logits: bool = True, pos_weight: ArrayLike | None = None,
           label_smoothing: float = 0.0, eps: float | None = None, name: str = "cbce_logloss",
           n_threads: int | None = None) -> _Metric:
    """lgb.train(feval=...): (name, Σ w·l / Σ w, False), LightGBM's binary_logloss for raw
    scores (from_logits=True, with a custom objective) or probabilities (from_logits=False)."""
    return _Metric(from_logits=from_logits, pos_weight=pos_weight,
                   label_smoothing=label_smoothing, eps=eps, name=name, n_threads=n_threads)


def sklearn_metric(*, from_logits: bool = True, pos_weight: ArrayLike | None = None,
                   label_smoothing: float = 0.0, eps: float | None = None,
                   name: str = "cbce_logloss", n_threads: int | None = None) -> _SklearnMetric:
    """LGBMClassifier.fit(eval_metric=...): metric(...) as f(y_true, y_pred, weight)."""
    return _SklearnMetric(from_logits=from_logits, pos_weight=pos_weight,
                          label_smoothing=label_smoothing, eps=eps, name=name,
                          n_threads=n_threads)
