"""A Cython extension that calls cbce without the GIL: the array-level kernel, and the
per-element inline functions inside its own loop."""
import numpy as np

from libc.stddef cimport ptrdiff_t

from cbce.capi cimport (
    CBCE_OK, cbce_bce_loss_and_grad_f64, cbce_default_options, cbce_options, import_cbce,
    logit_loss,
)

import_cbce()     # once, at import: ImportError, naming the cause, if cbce has no usable C API


def loss_and_grad(const double[::1] y, const double[::1] logits, int n_threads=0):
    """Mean BCE of logits and its gradient, by cbce's fused kernel in a nogil block."""
    cdef Py_ssize_t n = logits.shape[0]
    cdef ptrdiff_t bad = -1
    cdef cbce_options opt = cbce_default_options()   # every field, later ones included
    cdef double loss = 0.0
    cdef int rc
    if y.shape[0] != n:
        raise ValueError("y and logits must have the same length")
    opt.from_logits = 1
    opt.n_threads = n_threads
    grad = np.empty(n)
    cdef double[::1] g = grad
    # &a[0] of an empty memoryview raises IndexError: pass NULL, which cbce accepts for n = 0
    # (the mean of nothing is NaN, as in Python).
    cdef const double* yp = &y[0] if n > 0 else NULL
    cdef const double* xp = &logits[0] if n > 0 else NULL
    cdef double* gp = &g[0] if n > 0 else NULL
    with nogil:
        rc = cbce_bce_loss_and_grad_f64(yp, xp, n, NULL, 0, NULL, 0, &opt, &loss, NULL, gp,
                                        &bad)
    if rc != CBCE_OK:
        raise ValueError(f"cbce returned error {rc} (first bad index {bad})")
    return loss, grad


def sum_logit_loss(const double[::1] y, const double[::1] logits):
    """Sum of per-element losses, with cbce's inline closed form in our own nogil loop."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    with nogil:
        for i in range(logits.shape[0]):
            s += logit_loss(logits[i], y[i], 1.0)
    return s
