"""PyTorch losses on cbce's fused kernel (issue #7): ``BCEWithLogitsLoss``, ``BCELoss`` and the
functional forms, with PyTorch's signatures and results.

Imported on demand only (``import cbce.torch``); ``import cbce`` never imports torch.

Forward calls ``cbce.bce_loss_and_grad`` once on zero-copy NumPy views of the CPU tensors
(``Tensor.numpy()`` shares memory, whatever the strides) and saves the gradient it computed in
the same pass; backward returns it, scaled by ``grad_output`` (not at all when that is 1, as
after ``loss.backward()``). PyTorch's CPU kernels compute the loss in forward and the gradient
again in backward, from the saved input and target.

Differences from PyTorch: CPU tensors of float32/float64 only (CUDA, float16 and bfloat16
raise; PyTorch's modules handle those); gradients flow to ``input`` only (a ``target``,
``weight`` or ``pos_weight`` that requires grad raises while grad mode is on); ``target`` must
lie in [0, 1] (PyTorch does not check it for the logits loss) and may have any real dtype
(PyTorch wants input's); errors are ``ValueError``/``TypeError`` naming the argument, where
PyTorch raises ``RuntimeError``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import torch

import cbce

__all__ = ["BCEWithLogitsLoss", "BCELoss", "binary_cross_entropy_with_logits",
           "binary_cross_entropy"]

_DTYPES = (torch.float32, torch.float64)
_REDUCTIONS = ("none", "mean", "sum")
if TYPE_CHECKING:
    _Reduction = Literal["none", "mean", "sum"]
# cbce's argument names -> PyTorch's, for the messages of errors raised by cbce's facade.
_RENAME = [(re.compile(r"\by_true\b"), "target"), (re.compile(r"\by_pred\b"), "input"),
           (re.compile(r"\bsample_weight\b"), "weight"),
           (re.compile(r" \(pass from_logits=True for logits\)"), "")]


def _input_array(input: Any) -> np.ndarray:
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor; got {type(input).__name__}")
    if input.device.type != "cpu":
        raise ValueError(f"cbce.torch runs on the CPU; input is on {input.device}. Move it with "
                         ".cpu(), or use torch.nn.BCEWithLogitsLoss / BCELoss on that device")
    if input.dtype not in _DTYPES:
        raise TypeError(f"cbce.torch supports float32 and float64 input; got {input.dtype}. "
                        "Convert it (input.float()) or use torch.nn's losses")
    if input.layout != torch.strided:
        raise TypeError(f"input must be a dense (strided) tensor; got layout {input.layout}")
    return input.detach().numpy()  # shares memory, keeps the strides


def _other_array(t: Any, name: str) -> np.ndarray:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"cbce.torch runs on the CPU; {name} is on {t.device}")
    if t.layout != torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor; got layout {t.layout}")
    if t.requires_grad and torch.is_grad_enabled():
        raise ValueError(f"{name} requires grad, but cbce.torch differentiates with respect to "
                         "input only; detach it, or use torch.nn.functional's loss for "
                         f"gradients with respect to {name}")
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.detach().to(torch.float32).numpy()  # NumPy has no bfloat16
    return t.detach().numpy()


class _FusedBCE(torch.autograd.Function):
    """Loss and gradient in one kernel pass in forward; the saved gradient in backward."""

    @staticmethod
    def forward(ctx: Any, input: torch.Tensor, x: np.ndarray, y: np.ndarray,
                w: np.ndarray | None, pw: np.ndarray | None, from_logits: bool,
                reduction: _Reduction) -> torch.Tensor:
        loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, sample_weight=w,
                                            pos_weight=pw, reduction=reduction)
        ctx.save_for_backward(torch.from_numpy(grad))
        if reduction == "none":
            return torch.from_numpy(loss)
        return torch.tensor(loss, dtype=input.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if torch.is_grad_enabled():
            # create_graph=True: the saved gradient is a constant to autograd, so a second
            # derivative through it would silently miss this loss's hessian.
            raise RuntimeError("cbce.torch losses are differentiable once: backward with "
                               "create_graph=True (second derivatives) is not supported; use "
                               "torch.nn.functional's loss for that")
        (grad,) = ctx.saved_tensors
        if grad_output.dim() != 0:
            grad = grad * grad_output  # reduction="none": grad_output has input's shape
        elif grad_output.item() != 1.0:
            grad = grad * grad_output
        # else loss.backward(): the saved gradient as it is (autograd copies it before any
        # in-place accumulation while the graph still holds it).
        return grad, None, None, None, None, None, None


def _reduction(reduction: str, size_average: bool | None, reduce: bool | None) -> _Reduction:
    if size_average is not None or reduce is not None:
        reduction = torch.nn._reduction.legacy_get_string(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction; use one of "
                         f"{list(_REDUCTIONS)}")
    return cast("_Reduction", reduction)


def _bce(input: Any, target: Any, weight: Any, pos_weight: Any, reduction: _Reduction,
         from_logits: bool) -> torch.Tensor:
    x = _input_array(input)
    y = _other_array(target, "target")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    w = None if weight is None else _other_array(weight, "weight")
    pw = None if pos_weight is None else _other_array(pos_weight, "pos_weight")
    try:
        if torch.is_grad_enabled() and input.requires_grad:
            out: torch.Tensor = _FusedBCE.apply(input, x, y, w, pw, from_logits, reduction)
            return out
        # No graph to build (torch.no_grad(), inference, or an input without grad): loss only.
        loss = cbce.bce(y, x, from_logits=from_logits, sample_weight=w, pos_weight=pw,
                        reduction=reduction)
    except ValueError as exc:
        msg = str(exc)
        for pattern, name in _RENAME:
            msg = pattern.sub(name, msg)
        raise ValueError(msg) from exc
    if reduction == "none":
        return torch.from_numpy(loss)
    return torch.tensor(loss, dtype=input.dtype)


def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor,
                                     weight: torch.Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Binary cross-entropy of logits: ``torch.nn.functional.binary_cross_entropy_with_logits``
    on cbce's fused kernel.

    Per element, with :math:`x` = ``input``, :math:`y` = ``target``, :math:`w` = ``weight``
    and :math:`p_w` = ``pos_weight`` (PyTorch's definition, computed without overflow for
    every finite logit):

    .. math:: l = w \, [p_w \, y \log(1 + e^{-x}) + (1 - y) \log(1 + e^{x})]

    reduced by ``reduction``. The gradient is computed in the same pass and saved for backward.

    Parameters
    ----------
    input : torch.Tensor
        Logits: a CPU tensor of float32 or float64, any shape and strides. The only argument
        gradients flow to.
    target : torch.Tensor
        Labels in [0, 1] of input's shape (any real dtype).
    weight : torch.Tensor, optional
        Per-element weight, broadcast to input's shape (PyTorch's rule).
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags; they override ``reduction`` when given.
    reduction : {"mean", "sum", "none"}, default="mean"
        "mean" divides the sum by the number of elements (PyTorch's default), "none" returns
        the per-element losses.
    pos_weight : torch.Tensor, optional
        Weight of the positive term, broadcast to input's shape (e.g. one per class along the
        last dimension), as in PyTorch.

    Returns
    -------
    torch.Tensor
        The loss: 0-d for "mean" and "sum" (input's dtype, accumulated in float64), else of
        input's shape.

    Raises
    ------
    TypeError
        For an input that is not a tensor, or not float32/float64.
    ValueError
        For a CUDA tensor, mismatched shapes, target outside [0, 1], an unknown reduction, or
        a target/weight/pos_weight that requires grad.

    See Also
    --------
    cbce.bce_loss_and_grad : the NumPy function underneath.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> logits = torch.tensor([2.0, -1.0, 0.5], requires_grad=True)
    >>> target = torch.tensor([1.0, 0.0, 1.0])
    >>> loss = cbce.torch.binary_cross_entropy_with_logits(logits, target)
    >>> loss.backward()
    >>> print(f"{loss.item():.6f}", logits.grad)
    0.304756 tensor([-0.0397,  0.0896, -0.1258])
    """
    return _bce(input, target, weight, pos_weight, _reduction(reduction, size_average, reduce),
                True)


def binary_cross_entropy(input: torch.Tensor, target: torch.Tensor,
                         weight: torch.Tensor | None = None, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""Binary cross-entropy of probabilities: ``torch.nn.functional.binary_cross_entropy`` on
    cbce's fused kernel.

    Per element, with :math:`x` = ``input``, :math:`y` = ``target``, :math:`w` = ``weight``
    (PyTorch's definition, with its clamp of the logs at -100, so that a saturated prediction
    costs 100, not inf):

    .. math:: l = -w \, [y \max(\log x, -100) + (1 - y) \max(\log(1 - x), -100)]

    The gradient, :math:`w (x - y) / \max(x (1 - x), 10^{-12})` as in PyTorch's backward, is
    computed in the same pass and saved for backward.

    Parameters
    ----------
    input : torch.Tensor
        Probabilities in [0, 1]: a CPU tensor of float32 or float64, any shape and strides.
        The only argument gradients flow to.
    target : torch.Tensor
        Labels in [0, 1] of input's shape (any real dtype).
    weight : torch.Tensor, optional
        Per-element weight, broadcast to input's shape.
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags; they override ``reduction`` when given.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in PyTorch.

    Returns
    -------
    torch.Tensor
        The loss: 0-d for "mean" and "sum", else of input's shape.

    Raises
    ------
    TypeError
        For an input that is not a tensor, or not float32/float64.
    ValueError
        For a CUDA tensor, mismatched shapes, input or target outside [0, 1] (PyTorch raises
        RuntimeError for the input), an unknown reduction, or a target/weight that requires
        grad.

    See Also
    --------
    binary_cross_entropy_with_logits : the same loss from logits, stable and faster.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> probs = torch.tensor([0.9, 0.2, 0.6], dtype=torch.float64, requires_grad=True)
    >>> loss = cbce.torch.binary_cross_entropy(probs, torch.tensor([1.0, 0.0, 1.0]),
    ...                                        reduction="sum")
    >>> loss.backward()
    >>> print(f"{loss.item():.6f}", probs.grad)
    0.839330 tensor([-1.1111,  1.2500, -1.6667], dtype=torch.float64)
    """
    return _bce(input, target, weight, None, _reduction(reduction, size_average, reduce), False)


class BCEWithLogitsLoss(torch.nn.BCEWithLogitsLoss):
    r"""``torch.nn.BCEWithLogitsLoss`` whose forward runs cbce's fused kernel.

    A subclass of PyTorch's module: the same constructor, buffers (``weight``,
    ``pos_weight``), ``state_dict`` and ``reduction`` attribute; only ``forward`` differs. See
    :func:`binary_cross_entropy_with_logits` for the formula and the restrictions (CPU,
    float32/float64, gradients to the input only).

    Parameters
    ----------
    weight : torch.Tensor, optional
        Per-element weight, broadcast to the input's shape.
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-element losses are reduced.
    pos_weight : torch.Tensor, optional
        Weight of the positive term, broadcast to the input's shape.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = torch.nn.Linear(4, 1)
    >>> loss_fn = cbce.torch.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))
    >>> x, y = torch.randn(8, 4), torch.randint(0, 2, (8, 1)).float()
    >>> loss = loss_fn(model(x), y)
    >>> loss.backward()
    >>> same = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))(model(x), y)
    >>> bool(torch.isclose(loss, same))
    True
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``input`` (logits) against ``target``, as in the parent class."""
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                pos_weight=self.pos_weight,
                                                reduction=self.reduction)


class BCELoss(torch.nn.BCELoss):
    r"""``torch.nn.BCELoss`` whose forward runs cbce's fused kernel.

    A subclass of PyTorch's module: the same constructor, ``weight`` buffer, ``state_dict``
    and ``reduction``; only ``forward`` differs. See :func:`binary_cross_entropy` for the
    formula (PyTorch's clamp of the logs at -100) and the restrictions.

    Parameters
    ----------
    weight : torch.Tensor, optional
        Per-element weight, broadcast to the input's shape.
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-element losses are reduced.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> probs = torch.tensor([[0.9, 0.2], [0.6, 0.5]], requires_grad=True)
    >>> target = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    >>> loss = cbce.torch.BCELoss()(probs, target)
    >>> loss.backward()
    >>> print(f"{loss.item():.6f}")
    0.383119
    >>> bool(torch.isclose(loss, torch.nn.BCELoss()(probs, target)))
    True
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``input`` (probabilities) against ``target``, as in the parent class."""
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)
