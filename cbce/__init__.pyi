from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cbce import metrics as metrics

# cbce.torch is imported on demand (`import cbce.torch`): not re-exported here, so that type
# checking code that uses cbce never analyses torch.

# Reduced results are Python floats; reduction="none" returns arrays of the compute dtype
# (float32 for float32/float16 predictions, float64 otherwise).
_Reduced = Literal["sum", "mean", "weighted_mean"]
_Reduction = Literal["none", "sum", "mean", "weighted_mean"]
_Float = np.float32 | np.float64
_FloatArray = NDArray[np.float32] | NDArray[np.float64]

__version__: str
__all__ = ["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess", "cross_entropy",
           "cross_entropy_grad", "cross_entropy_loss_and_grad", "show_config", "get_include",
           "__version__"]

@overload
def bce(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
        sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
        label_smoothing: float = ..., eps: float | None = ..., reduction: _Reduced = ...,
        n_threads: int | None = ...,
        gamma: float = ..., alpha: float | None = ...) -> float: ...
@overload
def bce(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
        sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
        label_smoothing: float = ..., eps: float | None = ..., reduction: Literal["none"],
        n_threads: int | None = ...,
        gamma: float = ..., alpha: float | None = ...) -> NDArray[_Float]: ...
@overload
def bce(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
        sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
        label_smoothing: float = ..., eps: float | None = ..., reduction: _Reduction,
        n_threads: int | None = ...,
        gamma: float = ..., alpha: float | None = ...) -> float | NDArray[_Float]: ...
def bce_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
             sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
             label_smoothing: float = ..., eps: float | None = ..., reduction: _Reduction = ...,
             n_threads: int | None = ..., out: _FloatArray | None = ...,
        gamma: float = ..., alpha: float | None = ...) -> NDArray[_Float]: ...
@overload
def bce_loss_and_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
                      sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
                      label_smoothing: float = ..., eps: float | None = ...,
                      reduction: _Reduced = ..., n_threads: int | None = ...,
                      out: _FloatArray | None = ...,
        gamma: float = ..., alpha: float | None = ...) -> tuple[float, NDArray[_Float]]: ...
@overload
def bce_loss_and_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
                      sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
                      label_smoothing: float = ..., eps: float | None = ...,
                      reduction: Literal["none"], n_threads: int | None = ...,
                      out: _FloatArray | None = ...,
        gamma: float = ..., alpha: float | None = ...
        ) -> tuple[NDArray[_Float], NDArray[_Float]]: ...
@overload
def bce_loss_and_grad(y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = ...,
                      sample_weight: ArrayLike | None = ..., pos_weight: ArrayLike | None = ...,
                      label_smoothing: float = ..., eps: float | None = ...,
                      reduction: _Reduction, n_threads: int | None = ...,
                      out: _FloatArray | None = ...,
        gamma: float = ..., alpha: float | None = ...
        ) -> tuple[float | NDArray[_Float], NDArray[_Float]]: ...
def bce_grad_hess(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = ...,
                  pos_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                  reduction: _Reduction = ..., n_threads: int | None = ...,
                  grad_out: _FloatArray | None = ..., hess_out: _FloatArray | None = ...,
        gamma: float = ..., alpha: float | None = ...
        ) -> tuple[NDArray[_Float], NDArray[_Float]]: ...
@overload
def cross_entropy(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                  sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                  label_smoothing: float = ..., ignore_index: int | None = ...,
                  reduction: _Reduced = ..., n_threads: int | None = ...) -> float: ...
@overload
def cross_entropy(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                  sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                  label_smoothing: float = ..., ignore_index: int | None = ...,
                  reduction: Literal["none"], n_threads: int | None = ...) -> NDArray[_Float]: ...
@overload
def cross_entropy(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                  sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                  label_smoothing: float = ..., ignore_index: int | None = ...,
                  reduction: _Reduction, n_threads: int | None = ...
                  ) -> float | NDArray[_Float]: ...
def cross_entropy_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                       sample_weight: ArrayLike | None = ..., class_weight: ArrayLike | None = ...,
                       label_smoothing: float = ..., ignore_index: int | None = ...,
                       reduction: _Reduction = ..., n_threads: int | None = ...,
                       out: _FloatArray | None = ...) -> NDArray[_Float]: ...
@overload
def cross_entropy_loss_and_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                                sample_weight: ArrayLike | None = ...,
                                class_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                                ignore_index: int | None = ..., reduction: _Reduced = ...,
                                n_threads: int | None = ..., out: _FloatArray | None = ...
                                ) -> tuple[float, NDArray[_Float]]: ...
@overload
def cross_entropy_loss_and_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                                sample_weight: ArrayLike | None = ...,
                                class_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                                ignore_index: int | None = ..., reduction: Literal["none"],
                                n_threads: int | None = ..., out: _FloatArray | None = ...
                                ) -> tuple[NDArray[_Float], NDArray[_Float]]: ...
@overload
def cross_entropy_loss_and_grad(y_true: ArrayLike, logits: ArrayLike, *, axis: int = ...,
                                sample_weight: ArrayLike | None = ...,
                                class_weight: ArrayLike | None = ..., label_smoothing: float = ...,
                                ignore_index: int | None = ..., reduction: _Reduction,
                                n_threads: int | None = ..., out: _FloatArray | None = ...
                                ) -> tuple[float | NDArray[_Float], NDArray[_Float]]: ...
def show_config(print_: bool = ...) -> dict[str, Any]: ...
def get_include() -> str: ...
