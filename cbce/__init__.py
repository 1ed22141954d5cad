"""cbce: fast, accurate binary cross-entropy for NumPy arrays.

    loss = cbce.bce(y_true, y_pred)                                  # probabilities
    loss, grad = cbce.bce_loss_and_grad(y_true, logits, from_logits=True)
    grad, hess = cbce.bce_grad_hess(y_true, logits)
    loss = cbce.bce(y_true, logits, from_logits=True, gamma=2.0, alpha=0.25)   # focal
    loss, grad = cbce.cross_entropy_loss_and_grad(labels, logits_nc)  # softmax, C classes

Cython + OpenMP kernels: loss and gradient in one pass, float32 and float64, any shape and
strides, deterministic reductions. The semantics of every option: docs/semantics.md.
"""
try:
    from cbce import _kernels  # noqa: F401
except ImportError as exc:  # pragma: no cover - only reached from an unbuilt source tree
    import os as _os

    _here = _os.path.dirname(_os.path.abspath(__file__))
    if _os.path.exists(_os.path.join(_os.path.dirname(_here), "setup.py")):
        raise ImportError(
            f"cbce is being imported from its source tree ({_here}), which holds no compiled "
            "kernels. Install it (pip install .) and run Python from another directory, or use "
            "`python -I -m cbce` (isolated mode) so that the current directory is not put on "
            "sys.path."
        ) from exc
    raise

from cbce._api import bce, bce_grad, bce_grad_hess, bce_loss_and_grad
from cbce._config import show_config
from cbce._dispatch import kernels as _kernels
from cbce._multiclass import cross_entropy, cross_entropy_grad, cross_entropy_loss_and_grad
from cbce import metrics  # noqa: F401  (cbce.metrics needs numpy only)


def __getattr__(name):
    # cbce.torch on first use: `import cbce` must not import torch.
    if name == "torch":
        import importlib

        return importlib.import_module("cbce.torch")
    raise AttributeError(f"module 'cbce' has no attribute {name!r}")


__version__ = "0.1.0"
__all__ = ["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess", "cross_entropy",
           "cross_entropy_grad", "cross_entropy_loss_and_grad", "show_config", "get_include",
           "__version__"]

# The C API table of the kernel variant in use (cbce/include/cbce.h, import_cbce()).
_kernels._set_api_version(__version__)
_C_API = _kernels._C_API


def get_include():
    """The folder of cbce's C headers (cbce.h, cbce_math.h), for a C or Cython extension's
    include_dirs; see docs/c-cython.md.

    Returns
    -------
    path : str
        The absolute path of the installed ``cbce/include`` folder.

    Examples
    --------
    >>> import os
    >>> import cbce
    >>> os.path.isfile(os.path.join(cbce.get_include(), "cbce.h"))
    True
    """
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
