"""PyTorch losses on cbce's fused kernels: ``BCEWithLogitsLoss``, ``BCELoss``,
``CrossEntropyLoss``, their functional forms and torchvision's ``sigmoid_focal_loss``, with
PyTorch's signatures and results; see docs/guide/pytorch.md.

Imported on demand only (``import cbce.torch``); ``import cbce`` never imports torch. Importing
this module registers three operators in the ``cbce`` namespace of ``torch.ops``:

* ``cbce::bce_loss_and_grad`` and ``cbce::ce_loss_and_grad``: the loss and its gradient with
  respect to the input in one kernel pass (``cbce.bce_loss_and_grad``,
  ``cbce.cross_entropy_loss_and_grad``);
* ``cbce::bce_grad_hess``: the gradient and hessian diagonal from logits, for second derivatives.

Each has a CPU kernel, a fake (meta) kernel for ``torch.compile``, a vmap rule and an Autograd
kernel. The Autograd kernel is an ``autograd.Function`` with ``backward``, ``jvp`` and a
generated vmap rule, which ``torch.library.register_autograd`` cannot give: it takes no forward
rule. The loss's gradient is an output of the operator, so backward is ``grad_output * grad``
(a tensor op, no ``.item()``), and the gradient, being itself an output, is differentiable:
its derivative is the hessian (a diagonal one for BCE; the softmax hessian-vector product for
cross-entropy), which gives ``create_graph=True``, ``hessian`` and ``jacfwd(jacrev(...))``.

Differences from PyTorch (documented in docs/guide/pytorch.md): CPU tensors only (CUDA
raises); gradients flow to ``input`` only (a ``target``/``weight``/``pos_weight`` that requires
grad raises while grad mode is on); BCE targets must lie in [0, 1] (PyTorch does not check them
for the logits loss); errors are ``ValueError``/``TypeError`` naming the argument, where PyTorch
raises ``RuntimeError``; third derivatives raise.
"""
from __future__ import annotations

import math
import re
import threading
import types
from typing import Any

import numpy as np
import torch
from torch.autograd import forward_ad as fwAD

import cbce

__all__ = ["BCEWithLogitsLoss", "BCELoss", "CrossEntropyLoss", "binary_cross_entropy_with_logits",
           "binary_cross_entropy", "cross_entropy", "sigmoid_focal_loss"]

_REDUCTIONS = ("none", "mean", "sum")            # the operators' int reduction is the index
_LOW = (torch.float16, torch.bfloat16)            # computed in float32, as PyTorch's CPU kernels
_COMPUTE = (torch.float32, torch.float64)
# PyTorch's float32 floor of x (1 - x) in binary_cross_entropy's backward (9.99999996e-13),
# which cbce's probability gradient uses for both dtypes.
_PROB_EPS = float(np.float32(1e-12))
# cbce's argument names -> PyTorch's, for the messages of errors raised by cbce's facade.
_RENAME = [(re.compile(r" \(pass from_logits=True for logits\)"), ""),
           (re.compile(r"\by_true\b"), "target"), (re.compile(r"\by_pred\b"), "input"),
           (re.compile(r"\blogits\b"), "input"), (re.compile(r"\bclass_weight\b"), "weight"),
           (re.compile(r"\bsample_weight\b"), "weight")]


def _renamed(exc: ValueError) -> ValueError:
    msg = str(exc)
    for pattern, name in _RENAME:
        msg = pattern.sub(name, msg)
    return ValueError(msg)


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    if t is None:
        return None
    t = t.detach()
    if t.dtype in _LOW:
        t = t.float()  # NumPy has no bfloat16
    return t.numpy()   # shares memory, keeps the strides


def _alpha(alpha: float) -> float | None:
    return None if alpha < 0 or math.isnan(alpha) else alpha


# ---------------------------------------------------------------------------------------------
# The operators. Schemas take only what the dispatcher can carry: the reduction as an index of
# _REDUCTIONS, "no alpha" as a negative alpha (torchvision's convention), no ignore_index as
# has_ignore=False.
_LIB = torch.library.Library("cbce", "DEF")
_LIB.define("bce_loss_and_grad(Tensor input, Tensor target, Tensor? weight, Tensor? pos_weight, "
            "bool from_logits, int reduction, float gamma, float alpha) -> (Tensor, Tensor)")
_LIB.define("bce_grad_hess(Tensor input, Tensor target, Tensor? weight, Tensor? pos_weight, "
            "int reduction, float gamma, float alpha) -> (Tensor, Tensor)")
_LIB.define("ce_loss_and_grad(Tensor input, Tensor target, Tensor? weight, bool has_ignore, "
            "int ignore_index, float label_smoothing, int reduction) -> (Tensor, Tensor)")
_OPS = torch.ops.cbce


def _bce_cpu(input, target, weight, pos_weight, from_logits, reduction, gamma, alpha):
    red = _REDUCTIONS[reduction]
    try:
        loss, grad = cbce.bce_loss_and_grad(
            _np(target), _np(input), from_logits=from_logits, sample_weight=_np(weight),
            pos_weight=_np(pos_weight), reduction=red, gamma=gamma, alpha=_alpha(alpha))
    except ValueError as exc:
        raise _renamed(exc) from None
    loss = torch.from_numpy(loss) if red == "none" else torch.tensor(loss, dtype=input.dtype)
    return loss, torch.from_numpy(grad)


def _bce_grad_hess_cpu(input, target, weight, pos_weight, reduction, gamma, alpha):
    try:
        grad, hess = cbce.bce_grad_hess(_np(target), _np(input), sample_weight=_np(weight),
                                        pos_weight=_np(pos_weight),
                                        reduction=_REDUCTIONS[reduction], gamma=gamma,
                                        alpha=_alpha(alpha))
    except ValueError as exc:
        raise _renamed(exc) from None
    return torch.from_numpy(grad), torch.from_numpy(hess)


def _class_dim(input: torch.Tensor) -> int:
    return 1 if input.dim() >= 2 else 0


def _ce_cpu(input, target, weight, has_ignore, ignore_index, label_smoothing, reduction):
    red = _REDUCTIONS[reduction]
    try:
        loss, grad = cbce.cross_entropy_loss_and_grad(
            _np(target), _np(input), axis=_class_dim(input), class_weight=_np(weight),
            label_smoothing=label_smoothing, ignore_index=ignore_index if has_ignore else None,
            reduction=red)
    except ValueError as exc:
        raise _renamed(exc) from None
    loss = torch.from_numpy(loss) if red == "none" else torch.tensor(loss, dtype=input.dtype)
    return loss, torch.from_numpy(grad)


_LIB.impl("bce_loss_and_grad", _bce_cpu, "CPU")
_LIB.impl("bce_grad_hess", _bce_grad_hess_cpu, "CPU")
_LIB.impl("ce_loss_and_grad", _ce_cpu, "CPU")


@torch.library.register_fake("cbce::bce_loss_and_grad", lib=_LIB)
def _bce_fake(input, target, weight, pos_weight, from_logits, reduction, gamma, alpha):
    shape = input.shape if reduction == 0 else ()
    return input.new_empty(shape), input.new_empty(input.shape)


@torch.library.register_fake("cbce::bce_grad_hess", lib=_LIB)
def _bce_grad_hess_fake(input, target, weight, pos_weight, reduction, gamma, alpha):
    return input.new_empty(input.shape), input.new_empty(input.shape)


@torch.library.register_fake("cbce::ce_loss_and_grad", lib=_LIB)
def _ce_fake(input, target, weight, has_ignore, ignore_index, label_smoothing, reduction):
    shape = input.shape
    sample_shape = shape[:_class_dim(input)] + shape[_class_dim(input) + 1:]
    return input.new_empty(sample_shape if reduction == 0 else ()), input.new_empty(shape)


def _vmap_by_sample(op):
    """A vmap rule that runs the operator once per batch entry: every reduction and broadcast
    stays the operator's own (a "mean" over each entry, not over the batch)."""
    def rule(info, in_dims, *args):
        outs = []
        for b in range(info.batch_size):
            sliced = [a if d is None or a is None else a.select(d, b)
                      for a, d in zip(args, in_dims)]
            outs.append(op(*sliced))
        return tuple(torch.stack(o) for o in zip(*outs)), (0, 0)
    return rule


for _name in ("bce_loss_and_grad", "bce_grad_hess", "ce_loss_and_grad"):
    torch.library.register_vmap(f"cbce::{_name}", _vmap_by_sample(getattr(_OPS, _name).default),
                                lib=_LIB)


# ---------------------------------------------------------------------------------------------
# Derivatives. The operators' second output is the loss's gradient g; a first derivative is
# grad_output * g, and the derivative of g itself (for second derivatives and for the tangent
# of g in forward mode) is computed here.

def _bce_hess_times(ctx, v: torch.Tensor) -> torch.Tensor:
    """H v for the BCE loss of ctx's inputs: H is diagonal."""
    x, target, weight, pos_weight = ctx.inputs
    if ctx.from_logits:
        # cbce's hessian kernel; it has its own Autograd kernel, which raises for a third
        # derivative rather than pass a constant through.
        _, h = _call("bce_grad_hess", x, target, weight, pos_weight, ctx.reduction, ctx.gamma,
                                  ctx.alpha)
        return h * v
    if ctx.gamma != 0.0 or ctx.alpha >= 0:
        raise RuntimeError("cbce.torch: second derivatives of the focal loss of probabilities "
                           "are not supported; pass logits")
    # d/dx of w (x - y) / max(x (1 - x), eps), PyTorch's backward for probabilities, in torch
    # ops (so that it is differentiable again).
    y = target.to(x.dtype)
    d = x * (1 - x)
    den = d.clamp_min(_PROB_EPS)
    h = 1 / den - torch.where(d > _PROB_EPS, (x - y) * (1 - 2 * x) / (den * den), 0.0)
    if weight is not None:
        h = h * weight
    if ctx.reduction == 1:
        h = h / x.numel()
    return h * v


def _ce_hess_times(ctx, v: torch.Tensor) -> torch.Tensor:
    """H v for the cross-entropy of ctx's inputs: per sample, s (diag(p) - p p^T) v, where p is
    the softmax, s = sum_c cw_c t_c the sample's total target weight times the reduction's
    scale (see cbce.cross_entropy_grad)."""
    x, target, weight = ctx.inputs
    dim = _class_dim(x)
    n_classes = x.shape[dim]
    ls = ctx.label_smoothing
    if target.dtype.is_floating_point:  # class probabilities
        t = target.to(x.dtype) * (1 - ls) + ls / n_classes
        s = (t if weight is None else t * _along(weight, dim, x.dim())).sum(dim)
        denom = x.numel() // max(n_classes, 1)
    else:
        kept = (target != ctx.ignore_index) if ctx.has_ignore \
            else torch.ones_like(target, dtype=torch.bool)
        safe = torch.where(kept, target, 0)
        if weight is None:
            wy, wsum = torch.ones_like(x.select(dim, 0)), float(n_classes)
            s = kept.to(x.dtype)
        else:
            wy, wsum = weight.to(x.dtype)[safe], weight.to(x.dtype).sum()
            s = kept.to(x.dtype) * ((1 - ls) * wy + ls / n_classes * wsum)
        denom = (kept.to(x.dtype) * wy).sum()
    if ctx.reduction == 1:
        s = s / denom
    p = torch.softmax(x, dim)
    pv = p * v
    return s.unsqueeze(dim) * (pv - p * pv.sum(dim, keepdim=True))


def _along(w: torch.Tensor, dim: int, ndim: int) -> torch.Tensor:
    """A (C,) class weight shaped to broadcast along the class dim of an ndim tensor."""
    return w.reshape((-1,) + (1,) * (ndim - dim - 1))


def _register_autograd(name: str, n_tensors: int, options: tuple[str, ...], hess_times,
                       loss_dim, reduces: bool = True) -> None:
    """Register the Autograd kernel of (f, df) = cbce::name(input, <n_tensors - 1 more tensors>,
    *options), where df is the derivative of f with respect to input, the only differentiable
    argument, and hess_times(ctx, v) the derivative of df applied to v. loss_dim(input) is the
    dim that a "none" loss lacks (None: f has input's shape); reduces=False: f is elementwise
    whatever the reduction (the gradient output of bce_grad_hess)."""
    op = getattr(_OPS, name).default

    def unpack(ctx, tensors):
        ctx.inputs = tensors
        for key, value in zip(options, ctx.options):
            setattr(ctx, key, value)

    def forward(keyset, *args):
        with torch._C._AutoDispatchBelowAutograd():
            if keyset is None:  # called from _call under a torch.func transform
                return op(*args)
            return op.redispatch(keyset & torch._C._after_autograd_keyset, *args)

    def setup_context(ctx, inputs, output):
        ctx.set_materialize_grads(False)
        tensors, ctx.options = inputs[1:1 + n_tensors], inputs[1 + n_tensors:]
        ctx.save_for_backward(output[1], *tensors)
        ctx.save_for_forward(output[1], *tensors)
        # The facade discards the gradient output (_private_grad): no one but this node sees
        # it, so the first backward may scale it in place (see _scaled_in_place).
        ctx.private_grad = getattr(_PRIVATE, "on", False)
        ctx.grad_spent = False

    def backward(ctx, g_loss, g_grad):
        grad, *tensors = ctx.saved_tensors
        unpack(ctx, tensors)
        dx = None
        if g_loss is not None:
            if reduces and not ctx.reduction and loss_dim is not None:
                g_loss = g_loss.unsqueeze(loss_dim(tensors[0]))
            if ctx.grad_spent:
                # An earlier backward scaled the saved gradient in place and handed it over
                # (retain_graph): compute it again, with a graph if this backward builds one.
                grad = _call(name, *tensors, *ctx.options)[1]
            else:
                dx = _scaled_in_place(ctx, grad, g_loss, g_grad)
                if dx is not None:
                    return (None, dx) + (None,) * (len(inputs_of(ctx)) - 1)
            dx = g_loss * grad
        if g_grad is not None:
            hv = hess_times(ctx, g_grad)
            dx = hv if dx is None else dx + hv
        return (None, dx) + (None,) * (len(inputs_of(ctx)) - 1)

    def jvp(ctx, _keyset, t_input, *_rest):
        grad, *tensors = ctx.saved_tensors
        unpack(ctx, tensors)
        if t_input is None:
            return None, None
        prod = grad * t_input
        if reduces and ctx.reduction:
            t_loss = prod.sum()
        elif loss_dim is None:
            t_loss = prod
        else:
            t_loss = prod.sum(loss_dim(tensors[0]))
        return t_loss, hess_times(ctx, t_input)

    # Two autograd.Functions over the same rules. torch.func needs the setup_context form;
    # the eager one saves in forward, because Function.apply binds a setup_context-style
    # forward's arguments with inspect.signature on every call (tens of microseconds).
    # Built with types.new_class, not class statements: mypy does not analyse torch
    # (tests/typing/mypy.ini), and a class statement here would show stubtest a module name.
    # new_class (not type()) runs the metaclass as a class statement does, and resolves the
    # mocked base of a docs build without torch.
    rules = {"generate_vmap_rule": True, "backward": staticmethod(backward),
             "jvp": staticmethod(jvp)}
    Fn: Any = types.new_class(f"cbce_{name}", (torch.autograd.Function,), {}, lambda ns: ns.update(
        rules, forward=staticmethod(forward), setup_context=staticmethod(setup_context)))

    def eager_forward(ctx, keyset, *args):
        output = forward(keyset, *args)
        setup_context(ctx, (keyset,) + args, output)
        return output

    Eager: Any = types.new_class(f"cbce_{name}_eager", (torch.autograd.Function,), {},
                                 lambda ns: ns.update(rules, forward=staticmethod(eager_forward)))

    def inputs_of(ctx):
        return ctx.inputs + list(ctx.options)

    def kernel(keyset, *args):
        if (torch.is_grad_enabled() and args[0].requires_grad) or fwAD._current_level >= 0:
            return Eager.apply(keyset, *args)
        # No graph and no forward-mode tangent possible: the CPU kernel only.
        with torch._C._AutoDispatchBelowAutograd():
            return op.redispatch(keyset & torch._C._after_autograd_keyset, *args)

    _LIB.impl(name, kernel, "Autograd", with_keyset=True)
    _FUNCTIONS[name] = Fn


_FUNCTIONS: dict[str, type[torch.autograd.Function]] = {}
_PRIVATE = threading.local()
# Below 1 MiB a new product is cheap (N = 1000: these checks and the NumPy alias cost more
# than the allocation, about 70 us against 0 measured); above, fresh pages are the cost.
_IN_PLACE_MIN_BYTES = 1 << 20


def _scaled_in_place(ctx, grad: torch.Tensor, g_loss: torch.Tensor,
                     g_grad: torch.Tensor | None) -> torch.Tensor | None:
    """grad scaled by g_loss in place (None: not done), when nothing else can read it: its first
    backward, of a facade call (the caller never held the gradient), with no graph to build
    (create_graph, torch.func and compile need g_loss * grad as a differentiable product) and
    no hessian term. A fresh 4 MB product at N = 10^6 float32 costs 1.5 to 6 ms of page faults
    here, the in-place product 0.2 ms (smaller gradients: see _IN_PLACE_MIN_BYTES). The write
    goes through a NumPy-backed alias, which has its own version counter: the saved tensor stays
    valid for autograd's checks, and grad_spent sends any later backward (retain_graph) to a
    recomputed gradient instead."""
    if (not ctx.private_grad or grad.numel() * grad.element_size() < _IN_PLACE_MIN_BYTES
            or g_grad is not None or torch.is_grad_enabled()
            or type(grad) is not torch.Tensor or type(g_loss) is not torch.Tensor
            or g_loss.requires_grad or (g_loss.dim() and g_loss.shape != grad.shape)
            or torch._C._are_functorch_transforms_active()):
        return None
    alias = torch.from_numpy(grad.detach().numpy())
    if g_loss.numel() != 1 or g_loss.item() != 1.0:  # loss.backward()'s 1 needs no product
        alias.mul_(g_loss)
    ctx.grad_spent = True
    return alias


def _private_grad(name: str, *args):
    """cbce::name(*args) for the facade, which keeps only the loss: the gradient output can be
    scaled in place by backward."""
    _PRIVATE.on = True
    try:
        return _call(name, *args)
    finally:
        _PRIVATE.on = False


def _call(name: str, *args):
    """cbce::name(*args). Under torch.func transforms, through its autograd.Function from
    Python: functorch runs an autograd.Function only from there, not from an Autograd kernel
    inside the dispatcher (where torch.library.register_autograd's kernels fail alike)."""
    if not torch.compiler.is_compiling() and torch._C._are_functorch_transforms_active():
        return _FUNCTIONS[name].apply(None, *args)
    return getattr(_OPS, name)(*args)


def _no_third_derivative(ctx, v):
    raise RuntimeError("cbce.torch computes first and second derivatives; a third derivative "
                       "(through the hessian of a cbce loss) is not supported")


_register_autograd("bce_loss_and_grad", 4, ("from_logits", "reduction", "gamma", "alpha"),
                   _bce_hess_times, None)
_register_autograd("ce_loss_and_grad", 3,
                   ("has_ignore", "ignore_index", "label_smoothing", "reduction"),
                   _ce_hess_times, _class_dim)
_register_autograd("bce_grad_hess", 4, ("reduction", "gamma", "alpha"),
                   _no_third_derivative, None, reduces=False)


# ---------------------------------------------------------------------------------------------
# The Python facade: PyTorch's signatures, checks and dtype rules; no math.

def _reduction(reduction: str, size_average: bool | None, reduce: bool | None) -> int:
    if size_average is not None or reduce is not None:
        reduction = torch.nn._reduction.legacy_get_string(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction; use one of "
                         f"{list(_REDUCTIONS)}")
    return _REDUCTIONS.index(reduction)


def _check_input(input: Any) -> None:
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor; got {type(input).__name__}")
    if input.device.type != "cpu":
        raise ValueError(f"cbce.torch runs on the CPU; input is on {input.device}. Move it with "
                         ".cpu(), or use torch.nn's loss on that device")
    if not input.dtype.is_floating_point or input.dtype not in _COMPUTE + _LOW:
        raise TypeError(f"cbce.torch supports float16, bfloat16, float32 and float64 input; "
                        f"got {input.dtype}")
    if input.layout != torch.strided:
        raise TypeError(f"input must be a dense (strided) tensor; got layout {input.layout}")


def _check_other(t: Any, name: str) -> None:
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


def _compute(input: torch.Tensor) -> torch.Tensor:
    """input in its compute dtype: float16 and bfloat16 in float32 (a cast autograd follows)."""
    return input.float() if input.dtype in _LOW else input


def _bce(input, target, weight, pos_weight, reduction, from_logits, gamma=0.0, alpha=-1.0):
    _check_input(input)
    _check_other(target, "target")
    if target.shape != input.shape:
        if not from_logits:  # each of torch's two messages, for its own loss
            raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                             f"input size ({input.size()}) is deprecated. Please ensure they "
                             "have the same size.")
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    if weight is not None:
        _check_other(weight, "weight")
    if pos_weight is not None:
        _check_other(pos_weight, "pos_weight")
    if input.dtype in _LOW and torch.is_autocast_enabled("cpu"):
        out_dtype = torch.float32  # CPU autocast runs both BCE losses in float32
    elif from_logits and target.dtype.is_floating_point:
        # PyTorch's result for the logits loss: input's and target's promoted dtype (float32
        # for bfloat16 logits and float32 targets); binary_cross_entropy wants equal dtypes.
        out_dtype = torch.promote_types(input.dtype, target.dtype)
    else:
        out_dtype = input.dtype
    loss, _ = _private_grad("bce_loss_and_grad", _compute(input), target, weight,
                           pos_weight, from_logits, reduction, float(gamma), float(alpha))
    return loss if loss.dtype == out_dtype else loss.to(out_dtype)


def _check_focal(gamma: float, alpha: float | None) -> float:
    if not isinstance(gamma, (int, float)) or isinstance(gamma, bool) or not gamma >= 0:
        raise ValueError(f"gamma must be a number >= 0; got {gamma!r}")
    if alpha is None:
        return -1.0
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha <= 1:
        raise ValueError(f"alpha must be a number <= 1 (negative: no alpha) or None; got "
                         f"{alpha!r}")
    return float(alpha)


def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor,
                                     weight: torch.Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: torch.Tensor | None = None, *,
                                     gamma: float = 0.0,
                                     alpha: float | None = None) -> torch.Tensor:
    r"""Binary cross-entropy of logits: ``torch.nn.functional.binary_cross_entropy_with_logits``
    on cbce's fused kernel, with an optional focal term.

    Per element, with :math:`x` = ``input``, :math:`y` = ``target``, :math:`w` = ``weight``
    and :math:`p_w` = ``pos_weight`` (PyTorch's definition, computed without overflow for
    every finite logit):

    .. math:: l = w \, [p_w \, y \log(1 + e^{-x}) + (1 - y) \log(1 + e^{x})]

    times :math:`\alpha_t (1 - p_t)^\gamma` when ``gamma`` or ``alpha`` is given (see
    :func:`sigmoid_focal_loss`), reduced by ``reduction``. The gradient is computed in the same
    pass; backward scales it by the incoming gradient.

    Parameters
    ----------
    input : torch.Tensor
        Logits: a CPU tensor of float16, bfloat16 (computed in float32), float32 or float64,
        any shape and strides. The only argument gradients flow to.
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
    gamma : float, default=0.0
        Focal exponent (keyword only; not in PyTorch's signature).
    alpha : float, optional
        Focal class balance in [0, 1]; None or negative: none (keyword only).

    Returns
    -------
    torch.Tensor
        The loss: 0-d for "mean" and "sum" (accumulated in float64), else of input's shape;
        in the dtype PyTorch gives (input's and target's promoted dtype).

    Raises
    ------
    TypeError
        For an input that is not a floating tensor.
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
                True, gamma, _check_focal(gamma, alpha))


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
    computed in the same pass; its derivative (for second derivatives) is that formula's.

    Parameters
    ----------
    input : torch.Tensor
        Probabilities in [0, 1]: a CPU tensor of float16, bfloat16 (computed in float32),
        float32 or float64, any shape and strides. The only argument gradients flow to.
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
        The loss: 0-d for "mean" and "sum", else of input's shape; input's dtype (float32
        under CPU autocast, PyTorch's autocast rule for this loss).

    Raises
    ------
    TypeError
        For an input that is not a floating tensor.
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


def sigmoid_focal_loss(inputs: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25,
                       gamma: float = 2, reduction: str = "none") -> torch.Tensor:
    r"""torchvision's ``sigmoid_focal_loss`` (Lin et al., "Focal Loss for Dense Object
    Detection", 2017) on cbce's fused kernel: the same signature and defaults.

    .. math:: l = \alpha_t (1 - p_t)^\gamma \, \mathrm{BCE}(x, y), \quad
              p_t = p y + (1 - p)(1 - y), \quad \alpha_t = \alpha y + (1 - \alpha)(1 - y)

    with :math:`p = \sigma(x)`, computed in log space (finite derivatives at saturated logits
    and for 0 < gamma < 1, where torchvision's formula gives NaN).

    Parameters
    ----------
    inputs : torch.Tensor
        Logits, any shape (a CPU floating tensor).
    targets : torch.Tensor
        Labels in [0, 1] of inputs' shape.
    alpha : float, default=0.25
        Weight of the positive class; a negative value means no weighting (torchvision's rule).
    gamma : float, default=2
        Focusing exponent, >= 0.
    reduction : {"none", "mean", "sum"}, default="none"
        As in torchvision.

    Returns
    -------
    torch.Tensor
        The loss, of inputs' shape for "none", else 0-d.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> x = torch.tensor([3.0, -2.0, 0.5])
    >>> y = torch.tensor([1.0, 0.0, 0.0])
    >>> cbce.torch.sigmoid_focal_loss(x, y)
    tensor([2.7321e-05, 1.3527e-03, 2.8306e-01])
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported "
                         "reduction modes: 'none', 'mean', 'sum'")
    return _bce(inputs, targets, None, None, _REDUCTIONS.index(reduction), True, gamma,
                _check_focal(gamma, -1.0 if alpha is None else alpha))


def cross_entropy(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> torch.Tensor:
    r"""Softmax cross-entropy: ``torch.nn.functional.cross_entropy`` on cbce's fused kernel.

    Per sample, with :math:`p` the softmax of ``input`` along the class dim (1, or 0 for an
    unbatched (C,) input), :math:`t` the target (one-hot for class indices), smoothed by
    ``label_smoothing``, and :math:`w_c` = ``weight``: :math:`l = -\sum_c w_c t_c \log p_c`,
    reduced as PyTorch does ("mean" over the total weight of the kept targets for class
    indices, over the number of samples for probabilities).

    Parameters
    ----------
    input : torch.Tensor
        Logits of shape (C,), (N, C) or (N, C, d1, ...): a CPU floating tensor (float16 and
        bfloat16 computed in float32), any strides. The only argument gradients flow to.
    target : torch.Tensor
        Class indices (an integer tensor of input's shape without the class dim) or class
        probabilities (a floating tensor of input's shape).
    weight : torch.Tensor, optional
        One weight per class, shape (C,).
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags.
    ignore_index : int, default=-100
        Class indices equal to it contribute nothing and are left out of "mean".
    reduction : {"mean", "sum", "none"}, default="mean"
        "none" returns one loss per sample.
    label_smoothing : float, default=0.0
        In [0, 1], PyTorch's rule.

    Returns
    -------
    torch.Tensor
        The loss in input's dtype (float32 under CPU autocast, PyTorch's autocast rule).

    Raises
    ------
    TypeError
        For an input that is not a floating tensor, or class indices that are not integers.
    ValueError
        For a CUDA tensor, a target of neither shape, a class index outside [0, C), a
        probability outside [0, 1], a bad weight or label_smoothing, an unknown reduction, or
        a target/weight that requires grad.

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]], requires_grad=True)
    >>> loss = cbce.torch.cross_entropy(logits, torch.tensor([0, 2]))
    >>> loss.backward()
    >>> print(f"{loss.item():.6f}")
    0.168117
    """
    _check_input(input)
    _check_other(target, "target")
    if weight is not None:
        _check_other(weight, "weight")
    if input.dim() == 0:
        raise ValueError("input must have a class dim (at least 1 dimension); got a 0-d tensor")
    red = _reduction(reduction, size_average, reduce)
    if not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0; got {label_smoothing!r}")
    has_ignore = not target.dtype.is_floating_point
    if not has_ignore and ignore_index != -100:
        raise ValueError(f"ignore_index applies to class indices only; target holds class "
                         f"probabilities and ignore_index is {ignore_index!r} (PyTorch's rule: "
                         "leave it at its default, -100)")
    out_dtype = torch.float32 if input.dtype in _LOW and torch.is_autocast_enabled("cpu") \
        else input.dtype
    loss, _ = _private_grad("ce_loss_and_grad", _compute(input), target, weight,
                           has_ignore, int(ignore_index), float(label_smoothing), red)
    return loss if loss.dtype == out_dtype else loss.to(out_dtype)


class BCEWithLogitsLoss(torch.nn.BCEWithLogitsLoss):
    r"""``torch.nn.BCEWithLogitsLoss`` whose forward runs cbce's fused kernel.

    A subclass of PyTorch's module: the same constructor, buffers (``weight``,
    ``pos_weight``), ``state_dict`` and ``reduction`` attribute, plus keyword-only ``gamma`` and
    ``alpha`` for a focal loss (plain attributes, outside the state_dict). See
    :func:`binary_cross_entropy_with_logits` for the formula and the restrictions.

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
    gamma : float, default=0.0
        Focal exponent.
    alpha : float, optional
        Focal class balance; None: none.

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

    def __init__(self, weight: torch.Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: torch.Tensor | None = None, *, gamma: float = 0.0,
                 alpha: float | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction, pos_weight)
        _check_focal(gamma, alpha)
        self.gamma, self.alpha = gamma, alpha

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``input`` (logits) against ``target``, as in the parent class."""
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                pos_weight=self.pos_weight,
                                                reduction=self.reduction, gamma=self.gamma,
                                                alpha=self.alpha)


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


class CrossEntropyLoss(torch.nn.CrossEntropyLoss):
    r"""``torch.nn.CrossEntropyLoss`` whose forward runs cbce's fused kernel.

    A subclass of PyTorch's module: the same constructor, ``weight`` buffer, ``state_dict``,
    ``ignore_index``, ``reduction`` and ``label_smoothing``; only ``forward`` differs. See
    :func:`cross_entropy`.

    Parameters
    ----------
    weight : torch.Tensor, optional
        One weight per class, shape (C,).
    size_average, reduce : bool, optional
        PyTorch's deprecated reduction flags.
    ignore_index : int, default=-100
        A class index that contributes nothing.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    label_smoothing : float, default=0.0
        In [0, 1].

    Examples
    --------
    >>> import torch
    >>> import cbce.torch
    >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    >>> target = torch.tensor([0, 2])
    >>> bool(torch.isclose(cbce.torch.CrossEntropyLoss()(logits, target),
    ...                    torch.nn.CrossEntropyLoss()(logits, target)))
    True
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``input`` (logits) against ``target``, as in the parent class."""
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)
