"""A typed user of cbce: checked with `mypy --strict` and run by tests/test_typing.py.

The use cases of docs/getting-started.md, written as a user with type annotations would write
them; assert_type pins what the stubs promise (reduction="none" -> an array, any other
reduction -> a float).
Lines marked `# type: ignore[...]` must stay errors: under --strict, an ignore that is no
longer needed is itself an error (warn_unused_ignores).
"""
import sys
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

import cbce
import cbce.metrics
from cbce.metrics import log_loss

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # mypy depends on typing_extensions
    from typing_extensions import assert_type

rng = np.random.default_rng(0)

# Logistic regression (docs/getting-started.md, "Logistic regression").
X = rng.standard_normal((2_000, 20))
y = (X[:, 0] > 0).astype(float)
w = np.zeros(20)
for _ in range(5):
    loss, g = cbce.bce_loss_and_grad(y, X @ w, from_logits=True)
    assert_type(loss, float)
    w -= 1.0 * (X.T @ g)

# A sigmoid output layer: per-element losses and dL/dlogits.
logits = rng.standard_normal(64).astype(np.float32)
targets = (rng.uniform(size=64) < 0.5).astype(np.float32)
per_elem, dlogits = cbce.bce_loss_and_grad(targets, logits, from_logits=True, reduction="none")
assert_type(per_elem, NDArray[np.float32 | np.float64])
assert_type(dlogits, NDArray[np.float32 | np.float64])

# A 2-D segmentation mask with per-pixel weights, into a preallocated gradient.
mask = rng.uniform(size=(32, 32)) > 0.5
out = np.empty((32, 32), dtype=np.float32)
weight = 1.0 + 4.0 * rng.uniform(size=(32, 1))
mean_loss, grad = cbce.bce_loss_and_grad(mask, out, from_logits=True, sample_weight=weight,
                                         reduction="weighted_mean", out=out)

# Anomaly detection: pos_weight, and the gradient/hessian of a boosting objective.
scores = rng.standard_normal(1_000)
labels = (rng.uniform(size=1_000) < 0.01).astype(np.int64)
ratio = float((labels == 0).sum() / max(1, (labels == 1).sum()))
assert_type(cbce.bce(labels, scores, from_logits=True, pos_weight=ratio), float)
gh = cbce.bce_grad_hess(labels, scores, pos_weight=ratio)
assert_type(gh, tuple[NDArray[np.float32 | np.float64], NDArray[np.float32 | np.float64]])

# The overloads on reduction.
probs = rng.uniform(size=100)
ytrue = (rng.uniform(size=100) < 0.5).tolist()  # lists are ArrayLike too
assert_type(cbce.bce(ytrue, probs), float)
assert_type(cbce.bce(ytrue, probs, reduction="sum"), float)
assert_type(cbce.bce(ytrue, probs, reduction="none"), NDArray[np.float32 | np.float64])
red: Literal["none", "mean"] = "mean"
assert_type(cbce.bce(ytrue, probs, reduction=red), float | NDArray[np.float32 | np.float64])
assert_type(cbce.bce_grad(ytrue, probs, eps=1e-7), NDArray[np.float32 | np.float64])
cfg = cbce.show_config(False)
threads: int = cfg["default_n_threads"]

# scikit-learn's log_loss.
assert_type(log_loss(["ham", "spam"], [[0.8, 0.2], [0.3, 0.7]]), float)
assert_type(cbce.metrics.log_loss([0, 1], probs[:2], sample_weight=[1.0, 2.0]), float)

# Misuse the stubs reject (not run: each line raises at run time).
if TYPE_CHECKING:
    cbce.bce(ytrue, probs, reduction="avg")  # type: ignore[call-overload]
    cbce.bce(ytrue, probs, from_logits="yes")  # type: ignore[call-overload]
    cbce.bce(ytrue, probs, 1e-7)  # type: ignore[call-overload]
    cbce.bce_grad(ytrue, probs, out=[0.0])  # type: ignore[arg-type]
    not_a_float: str = cbce.bce(ytrue, probs)  # type: ignore[assignment]
    log_loss([0, 1], [0.2, 0.7], normalize="yes")  # type: ignore[arg-type]
