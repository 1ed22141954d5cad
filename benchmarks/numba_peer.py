"""The Numba peer: the ``prange`` loops a user would write instead of installing cbce.

Plain, stable per-element formulas (the same as the NumPy peer), ``parallel=True``, no fastmath
(fastmath assumes no NaN, which cbce does not). Loss accumulated in float64, gradient of the mean.
Imported only when numba is installed; ``cache=True`` keeps the JIT out of repeated runs (and the
first call of every benchmark is an untimed warm-up anyway).
"""

import math

from numba import njit, prange

EPS = 1e-7  # Keras' epsilon, the usual clip of a probability


@njit(parallel=True, cache=True)
def loss_logits(y, x):
    n = x.size
    s = 0.0
    for i in prange(n):
        xi = x[i]
        s += max(xi, 0.0) - xi * y[i] + math.log1p(math.exp(-abs(xi)))
    return s / n


@njit(parallel=True, cache=True)
def loss_logits_w(y, x, w, pw):
    n = x.size
    s = 0.0
    for i in prange(n):
        xi = x[i]
        yi = y[i]
        sp = max(xi, 0.0) + math.log1p(math.exp(-abs(xi)))  # softplus(x); softplus(-x) = sp - x
        s += w[i] * ((1.0 - yi) * sp + pw * yi * (sp - xi))
    return s / n


@njit(parallel=True, cache=True)
def loss_probs(y, x):
    n = x.size
    s = 0.0
    for i in prange(n):
        p = min(max(x[i], EPS), 1.0 - EPS)
        yi = y[i]
        s += -(yi * math.log(p) + (1.0 - yi) * math.log1p(-p))
    return s / n


@njit(parallel=True, cache=True)
def loss_probs_w(y, x, w, pw):
    n = x.size
    s = 0.0
    for i in prange(n):
        p = min(max(x[i], EPS), 1.0 - EPS)
        yi = y[i]
        s += -w[i] * (pw * yi * math.log(p) + (1.0 - yi) * math.log1p(-p))
    return s / n


@njit(parallel=True, cache=True)
def loss_grad_logits(y, x, g):
    n = x.size
    s = 0.0
    for i in prange(n):
        xi = x[i]
        yi = y[i]
        e = math.exp(-abs(xi))
        s += max(xi, 0.0) - xi * yi + math.log1p(e)
        sig = 1.0 / (1.0 + e) if xi >= 0 else e / (1.0 + e)
        g[i] = (sig - yi) / n
    return s / n


@njit(parallel=True, cache=True)
def loss_grad_logits_w(y, x, w, pw, g):
    n = x.size
    s = 0.0
    for i in prange(n):
        xi = x[i]
        yi = y[i]
        wi = w[i]
        e = math.exp(-abs(xi))
        sp = max(xi, 0.0) + math.log1p(e)
        s += wi * ((1.0 - yi) * sp + pw * yi * (sp - xi))
        sig = 1.0 / (1.0 + e) if xi >= 0 else e / (1.0 + e)
        g[i] = wi * ((1.0 - yi) * sig - pw * yi * (1.0 - sig)) / n
    return s / n


@njit(parallel=True, cache=True)
def loss_grad_probs(y, x, g):
    n = x.size
    s = 0.0
    for i in prange(n):
        p = min(max(x[i], EPS), 1.0 - EPS)
        yi = y[i]
        s += -(yi * math.log(p) + (1.0 - yi) * math.log1p(-p))
        g[i] = (p - yi) / (p * (1.0 - p)) / n
    return s / n


@njit(parallel=True, cache=True)
def loss_grad_probs_w(y, x, w, pw, g):
    n = x.size
    s = 0.0
    for i in prange(n):
        p = min(max(x[i], EPS), 1.0 - EPS)
        yi = y[i]
        wi = w[i]
        s += -wi * (pw * yi * math.log(p) + (1.0 - yi) * math.log1p(-p))
        g[i] = wi * ((1.0 - yi) * p - pw * yi * (1.0 - p)) / (p * (1.0 - p)) / n
    return s / n


@njit(parallel=True, cache=True)
def grad_hess_logits(y, x, g, h):
    n = x.size
    for i in prange(n):
        xi = x[i]
        e = math.exp(-abs(xi))
        sig = 1.0 / (1.0 + e) if xi >= 0 else e / (1.0 + e)
        g[i] = (sig - y[i]) / n
        h[i] = sig * (1.0 - sig) / n


@njit(parallel=True, cache=True)
def grad_hess_logits_w(y, x, w, pw, g, h):
    n = x.size
    for i in prange(n):
        xi = x[i]
        yi = y[i]
        wi = w[i]
        e = math.exp(-abs(xi))
        sig = 1.0 / (1.0 + e) if xi >= 0 else e / (1.0 + e)
        g[i] = wi * ((1.0 - yi) * sig - pw * yi * (1.0 - sig)) / n
        h[i] = wi * (pw * yi + 1.0 - yi) * sig * (1.0 - sig) / n
