"""Docstring text shared by several public functions, written once and substituted into each.

SciPy's ``doccer`` habit: a docstring holds a line with only ``%(name)s`` where a shared block
goes; ``filler(blocks)`` decorates the function and replaces that line by the block, indented like
the line. Facts that live in the code (the parallel threshold) are read from the kernels here, so
no docstring can state a value the code does not use (tests/test_docs_facts.py checks the rest).
"""
import re
import textwrap

from cbce._dispatch import kernels as _kernels

__all__ = ["BCE", "CE", "fill", "filler"]

PARALLEL_THRESHOLD = int(_kernels.PARALLEL_THRESHOLD)
BLOCK_SIZE = int(_kernels.BLOCK_SIZE)

_PLACEHOLDER = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.M)


def _blocks(**texts):
    return {k: textwrap.dedent(v).strip("\n") for k, v in texts.items()}


_FOCAL = _blocks(
    gamma="""\
        gamma : float, default=0.0
            Focal exponent, >= 0: the loss becomes alpha_t (1 - p_t)^gamma l with
            p_t = p y + (1 - p)(1 - y) (torchvision's ``sigmoid_focal_loss``, Keras'
            ``BinaryFocalCrossentropy``), computed in log space: finite derivatives at saturated
            logits and for 0 < gamma < 1. 0 with ``alpha=None``: plain BCE, bitwise.""",
    alpha="""\
        alpha : float, optional
            Focal class balance in [0, 1]: alpha_t = alpha y + (1 - alpha)(1 - y), on the smoothed
            label. None (default): alpha_t = 1.""",
)

# The binary functions of cbce._api.
BCE = _blocks(
    y_true="""\
        y_true : array_like
            Targets in [0, 1] with y_pred's shape: bool, int or float (soft labels allowed), lists
            and scalars too.""",
    y_pred="""\
        y_pred : array_like
            Probabilities in [0, 1], or logits with ``from_logits=True``; any shape and strides.
            float32 (and float16) compute in float32, everything else in float64. Read without a
            copy when it already has that dtype, as are NumPy views, DLPack producers (PyTorch,
            JAX CPU arrays), pandas Series and buffers.""",
    y_pred_logits="""\
        y_pred : array_like
            Logits, any shape and strides; float32 (and float16) compute in float32, everything
            else in float64. Read without a copy when it already has that dtype.""",
    from_logits="""\
        from_logits : bool, default=False
            Whether y_pred holds logits (Keras' ``from_logits``, PyTorch's ``*_with_logits``).""",
    sample_weight="""\
        sample_weight : array_like, optional
            Per-element weight w, broadcast to y_pred's shape by NumPy's rules (PyTorch's
            ``weight``, scikit-learn's and Keras' ``sample_weight``); not range-checked.""",
    pos_weight="""\
        pos_weight : array_like, optional
            Weight p_w of the positive term, broadcast likewise (PyTorch's ``pos_weight``, e.g.
            one per class along the last axis).""",
    label_smoothing="""\
        label_smoothing : float, default=0.0
            ls in [0, 1]: y is replaced by y (1 - ls) + ls / 2 first (Keras' rule).""",
    eps="""\
        eps : float, optional
            Probabilities only: clip x to [eps, 1 - eps] (in y_pred's dtype) first, as Keras
            (1e-7) and scikit-learn (``finfo(dtype).eps``) do. None (default): PyTorch's rule, the
            logs clamped at -100, so that a saturated wrong prediction costs 100, not inf.""",
    reduction="""\
        reduction : {"mean", "sum", "none", "weighted_mean"}, default="mean"
            "mean": the sum over the number of elements (PyTorch's and Keras' default); "sum";
            "weighted_mean": the sum over the sum of the broadcast weights (scikit-learn's
            log_loss, XGBoost); "none": per element.""",
    n_threads=f"""\
        n_threads : int, optional
            OpenMP threads. None: OpenMP's default (``OMP_NUM_THREADS``, threadpoolctl's
            ``threadpool_limits``), and one thread below {PARALLEL_THRESHOLD} elements.""",
    out="""\
        out : ndarray, optional
            A writable C-contiguous array of y_pred's shape and the compute dtype that receives
            the gradient and is returned; it may be y_pred itself (an in-place gradient).""",
    raises="""\
        ValueError
            Shapes of y_true and y_pred differ; y_true outside [0, 1] or NaN; probabilities
            outside [0, 1] or NaN (the message gives the value and its index); weights that do not
            broadcast; an unknown reduction; bad n_threads, label_smoothing or eps; a bad output
            array. A call that raises modifies none of its arguments.
        TypeError
            Complex, string, object or other non-numeric input.""",
    **_FOCAL,
)

# The softmax functions of cbce._multiclass.
CE = _blocks(
    y_true="""\
        y_true : array_like
            Class indices, an integer array of logits' shape without ``axis`` (PyTorch's target of
            class indices), or class probabilities in [0, 1] of logits' shape (rows need not sum
            to 1).""",
    logits="""\
        logits : array_like
            Unnormalized scores, any shape with a class axis, any strides. float32 (and float16)
            compute in float32 outputs, everything else in float64; read without a copy when it
            already has that dtype.""",
    axis="""\
        axis : int, default=-1
            The class axis of logits (1 for PyTorch's (N, C, H, W) layout).""",
    sample_weight="""\
        sample_weight : array_like, optional
            Per-sample weight, broadcast to logits' shape without ``axis``; not range-checked.""",
    class_weight="""\
        class_weight : array_like, optional
            One weight per class, shape (C,) (PyTorch's ``weight``).""",
    label_smoothing="""\
        label_smoothing : float, default=0.0
            ls in [0, 1]: the target becomes (1 - ls) onehot(y) + ls / C, or y (1 - ls) + ls / C for
            probabilities (PyTorch's rule).""",
    ignore_index="""\
        ignore_index : int, optional
            Class indices equal to it contribute no loss and no gradient and are left out of
            "mean" (PyTorch's ``ignore_index``, there -100 by default); class indices only.""",
    reduction="""\
        reduction : {"mean", "sum", "none", "weighted_mean"}, default="mean"
            "mean": PyTorch's, the sum over the total class weight of the kept targets (their
            number without class_weight; the number of samples for probabilities); "sum";
            "weighted_mean": over the sum of sample_weight * class_weight[y] of the kept targets
            (sample_weight for probabilities), scikit-learn's log_loss; "none": per sample.""",
    n_threads=f"""\
        n_threads : int, optional
            OpenMP threads. None: OpenMP's default, and one thread below {PARALLEL_THRESHOLD}
            elements.""",
    out="""\
        out : ndarray, optional
            A writable C-contiguous array of logits' shape and the compute dtype to fill and
            return; it may be logits itself (in-place gradient).""",
    raises="""\
        ValueError
            y_true of neither shape; a class index outside [0, C) or a probability outside [0, 1]
            or NaN (the message gives the value and its index); ignore_index with probabilities;
            a bad axis, class_weight, sample_weight, reduction, n_threads, label_smoothing or out.
            A call that raises modifies none of its arguments.
        TypeError
            Class indices that are not integers; non-numeric input.""",
)


def fill(doc, blocks):
    """`doc` with each line that holds only ``%(name)s`` replaced by ``blocks[name]``, indented
    like that line. An unknown name raises KeyError: a typo must not reach a docstring."""
    def sub(m):
        indent, name = m.groups()
        try:
            text = blocks[name]
        except KeyError:
            raise KeyError(f"docstring placeholder %({name})s has no shared text") from None
        return "\n".join(indent + line if line else "" for line in text.splitlines())

    return _PLACEHOLDER.sub(sub, doc)


def filler(blocks):
    """Decorator: the function's docstring passed through ``fill(doc, blocks)``."""
    def decorate(func):
        if func.__doc__:  # None under python -OO
            func.__doc__ = fill(func.__doc__, blocks)
        return func

    return decorate
