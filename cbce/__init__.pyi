from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_Reduction = Literal["none", "sum", "mean", "weighted_mean"]
_Float = np.float32 | np.float64

__version__: str

def bce(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
        sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
        label_smoothing: float = ..., eps: float | None = ..., reduction: _Reduction = ...,
        n_threads: int | None = ..., gamma: float = ..., alpha: float | None = ...
        ) -> float | NDArray[_Float]: ...
def bce_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
             sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
             label_smoothing: float = ..., eps: float | None = ..., reduction: _Reduction = ...,
             n_threads: int | None = ..., out: NDArray[_Float] | None = ..., gamma: float = ...,
             alpha: float | None = ...) -> NDArray[_Float]: ...
def bce_loss_and_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
                      sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
                      label_smoothing: float = ..., eps: float | None = ...,
                      reduction: _Reduction = ..., n_threads: int | None = ...,
                      out: NDArray[_Float] | None = ..., gamma: float = ...,
                      alpha: float | None = ...
                      ) -> tuple[float | NDArray[_Float], NDArray[_Float]]: ...
def bce_grad_hess(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = ...,
                  pos_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                  reduction: _Reduction = ..., n_threads: int | None = ...,
                  grad_out: NDArray[_Float] | None = ..., hess_out: NDArray[_Float] | None = ...,
                  gamma: float = ..., alpha: float | None = ...
                  ) -> tuple[NDArray[_Float], NDArray[_Float]]: ...
def cross_entropy(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                  sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                  label_smoothing: float = ..., ignore_index: int | None = ...,
                  reduction: _Reduction = ..., n_threads: int | None = ...
                  ) -> float | NDArray[_Float]: ...
def cross_entropy_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                       sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                       label_smoothing: float = ..., ignore_index: int | None = ...,
                       reduction: _Reduction = ..., n_threads: int | None = ...,
                       out: NDArray[_Float] | None = ...) -> NDArray[_Float]: ...
def cross_entropy_loss_and_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                                sample_weight: ArrayLike | None = ...,
                                class_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                                ignore_index: int | None = ..., reduction: _Reduction = ...,
                                n_threads: int | None = ..., out: NDArray[_Float] | None = ...
                                ) -> tuple[float | NDArray[_Float], NDArray[_Float]]: ...
def show_config(print_: bool = ...) -> dict[str, Any]: ...
