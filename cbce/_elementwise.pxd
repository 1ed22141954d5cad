# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# (Directives live here because a cimporting module's own directives do not reach these inline
# bodies.)
"""Per-element closed forms of binary cross-entropy, in double precision.

Layer 3 of cbce (facade -> entry points -> array loops -> these). Every function is pure,
`noexcept nogil`, allocates nothing, and is inlined into the loops of src/_kernels.pyx. Inputs
are already validated and label-smoothed; `pw` is pos_weight; sample weights and the reduction
scale are applied by the loops.

Design notes
A. Logits. One exp and one log1p per element give every quantity (cbce/include/cbce_math.h:
   vectorizable, <= 1.5 ulp each, divide-free):
   with e = exp(-|x|) in [0, 1] and r = 1/(1+e): sigma(|x|) = r, sigma(-|x|) = e*r,
   softplus(+-x) = max(+-x, 0) + log1p(e).
   The loss (1-y)*softplus(x) + pw*y*softplus(-x) is a sum of non-negative terms, so it never
   cancels: PyTorch's max(x,0) - x*y + log1p(exp(-|x|)) returns 0 for y=0, x=-40 (exact 4.2e-18)
   and scikit-learn's form loses every digit of y=1, x=40. Error budget per term: exp <= 1 ulp,
   log1p <= 1.5 ulp, the sum max(x,0) + log1p(e) of two non-negative numbers <= 0.5 ulp, the
   coefficient product 0.5 ulp: within the 4-ulp contract for loss, gradient and hessian.
B. A zero coefficient contributes exactly zero (`_term`), so an infinite logit gives the limit
   (loss 0 at y=1, x=+inf) instead of 0*inf = nan. A NaN logit still propagates through log1p(e).
C. float32 logits: the loss, gradient and fused loss+gradient of float32 inputs are computed in
   float arithmetic (twice the SIMD lanes); each helper is <= 1.5 float ulp and the same error
   budget as Note A keeps the results within 4 float32 ulp. The hessian and the probability
   formulas of float32 inputs stay in double (their products of sigmas would not fit 4 ulp).
D. Probabilities. log is clamped at -100 as PyTorch does (binary_cross_entropy, Loss.cpp), so a
   saturated prediction costs 100 instead of inf; the gradient denominator x*(1-x) is floored at
   `floor` (PyTorch's EPSILON = 1e-12, rounded to the input's float type by the caller).
"""
from libc.math cimport fabs, fabsf

cdef extern from "cbce_math.h" nogil:
    double cbce_exp_nonpos(double x)
    double cbce_log(double x)
    double cbce_log1p(double t)
    double cbce_log1p_01(double t)
    double cbce_recip12(double u)
    float cbce_exp_nonpos_f(float x)
    float cbce_log1p_01_f(float t)
    float cbce_recip12_f(float u)


cdef inline double _term(double coef, double value) noexcept nogil:
    # Note B: 0 * inf must be 0 here (infinite logit, coefficient 0), not nan.
    return coef * value if coef != 0.0 else 0.0


cdef inline double _pos(double v) noexcept nogil:
    # max(v, 0) as one select; NaN gives 0, and log1p(e) carries the NaN instead.
    return v if v > 0.0 else 0.0


# ---------------------------------------------------------------------------------------------
# From logits (Note A)

cdef inline double logit_loss(double x, double y, double pw) noexcept nogil:
    cdef double lp = cbce_log1p_01(cbce_exp_nonpos(-fabs(x)))
    return _term(1.0 - y, _pos(x) + lp) + _term(pw * y, _pos(-x) + lp)


cdef inline double logit_grad(double x, double y, double pw) noexcept nogil:
    cdef double e = cbce_exp_nonpos(-fabs(x))
    cdef double r = cbce_recip12(1.0 + e)             # sigma(|x|)
    cdef double sig_pos = r if x >= 0.0 else e * r    # sigma(x)
    cdef double sig_neg = e * r if x >= 0.0 else r    # sigma(-x)
    return (1.0 - y) * sig_pos - pw * y * sig_neg


cdef inline double logit_loss_grad(double x, double y, double pw, double* grad) noexcept nogil:
    cdef double e = cbce_exp_nonpos(-fabs(x))
    cdef double lp = cbce_log1p_01(e)
    cdef double r = cbce_recip12(1.0 + e)
    cdef double sig_pos = r if x >= 0.0 else e * r
    cdef double sig_neg = e * r if x >= 0.0 else r
    grad[0] = (1.0 - y) * sig_pos - pw * y * sig_neg
    return _term(1.0 - y, _pos(x) + lp) + _term(pw * y, _pos(-x) + lp)


cdef inline double logit_grad_hess(double x, double y, double pw, double* hess) noexcept nogil:
    cdef double e = cbce_exp_nonpos(-fabs(x))
    cdef double r = cbce_recip12(1.0 + e)
    cdef double sig_pos = r if x >= 0.0 else e * r
    cdef double sig_neg = e * r if x >= 0.0 else r
    # sigma(x)*sigma(-x) = e*r*r: a product, no 1 - sigma cancellation at large |x|.
    hess[0] = (pw * y + (1.0 - y)) * (sig_pos * sig_neg)
    return (1.0 - y) * sig_pos - pw * y * sig_neg


# ---------------------------------------------------------------------------------------------
# From logits, float32 arithmetic (Note C): the same formulas with the float helpers.

cdef inline float _term_f(float coef, float value) noexcept nogil:
    return coef * value if coef != 0.0 else 0.0


cdef inline float _pos_f(float v) noexcept nogil:
    return v if v > 0.0 else 0.0


cdef inline float logit_loss_f(float x, float y, float pw) noexcept nogil:
    cdef float lp = cbce_log1p_01_f(cbce_exp_nonpos_f(-fabsf(x)))
    return _term_f(1.0 - y, _pos_f(x) + lp) + _term_f(pw * y, _pos_f(-x) + lp)


cdef inline float logit_grad_f(float x, float y, float pw) noexcept nogil:
    cdef float e = cbce_exp_nonpos_f(-fabsf(x))
    cdef float r = cbce_recip12_f(1.0 + e)
    cdef float sig_pos = r if x >= 0.0 else e * r
    cdef float sig_neg = e * r if x >= 0.0 else r
    return (1.0 - y) * sig_pos - pw * y * sig_neg


cdef inline float logit_loss_grad_f(float x, float y, float pw, float* grad) noexcept nogil:
    cdef float e = cbce_exp_nonpos_f(-fabsf(x))
    cdef float lp = cbce_log1p_01_f(e)
    cdef float r = cbce_recip12_f(1.0 + e)
    cdef float sig_pos = r if x >= 0.0 else e * r
    cdef float sig_neg = e * r if x >= 0.0 else r
    grad[0] = (1.0 - y) * sig_pos - pw * y * sig_neg
    return _term_f(1.0 - y, _pos_f(x) + lp) + _term_f(pw * y, _pos_f(-x) + lp)


# ---------------------------------------------------------------------------------------------
# From probabilities (Note D); x is already clipped to [lo, hi] by the loop.

cdef inline double _clamped_log(double v) noexcept nogil:
    # PyTorch clamps log at -100 (Loss.cpp, binary_cross_entropy): log(0) = -inf costs 100.
    return v if v > -100.0 else -100.0


cdef inline double prob_loss(double x, double y, double pw) noexcept nogil:
    return -(pw * y * _clamped_log(cbce_log(x)) + (1.0 - y) * _clamped_log(cbce_log1p(-x)))


cdef inline double prob_grad(double x, double y, double pw, double floor) noexcept nogil:
    cdef double d = x * (1.0 - x)
    return ((1.0 - y) * x - pw * y * (1.0 - x)) / (d if d > floor else floor)


cdef inline double prob_loss_grad(double x, double y, double pw, double floor,
                                  double* grad) noexcept nogil:
    grad[0] = prob_grad(x, y, pw, floor)
    return prob_loss(x, y, pw)
