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


# ---------------------------------------------------------------------------------------------
# Focal BCE (issue 9): l = a_t * q^g * CE, q = 1 - p_t = y*sigma(-x) + (1-y)*sigma(x) for logits
# (y*(1-p) + (1-y)*p for probabilities), a_t = alpha*y + (1-alpha)*(1-y) (1 without alpha), CE the
# plain per-element loss above (pos_weight included). torchvision's sigmoid_focal_loss, optax's,
# Keras' BinaryFocalCrossentropy(apply_class_balancing=True). The loops pass a_t; g = 0 without
# alpha never reaches these (the plain functions run).
#
# E. Log space. q^g is exp(g*log q), never a power of a rounded q: with e = exp(-|x|),
#    r = 1/(1+e), q = r*t where t = A + B*e, (A, B) = (1-y, y) for x >= 0 and (y, 1-y) for x < 0,
#    so log q = log t - log1p(e). For a hard label (A = 0) log t = -|x| exactly: q = sigma(-|x|)
#    underflows at |x| > 745 but its log does not. g*log q is formed as an exact product plus a
#    small remainder (cbce_two_prod, cbce_log_split) and exp'd with its rounding error carried
#    (cbce_two_sum): exp(z) alone would lose |z|*eps (z = -500: ~250 ulp).
# F. Derivatives without q^(g-1). d log q/dx = (1-2y)*rho with rho = sigma(x)sigma(-x)/q = e*r/t
#    (= r for A = 0): finite everywhere, so the gradient a_t*Q*(CE' + g*(1-2y)*rho*CE) and the
#    hessian stay finite for 0 < g < 1 and at saturated logits, where autograd through
#    (1 - p_t)**g gives g*0^(g-1)*0 = inf*0 = NaN (the reports filed against optax and kornia).
#    Hessian: a_t*Q*(CE'' + 2g*u'*CE' + g*u'*(D + (g-1)*u')*CE), u' = (1-2y)*rho,
#    D = sigma(-x) - sigma(x) (from u'' = u'*(D - u')).
# G. Infinite logits give the limits: a coefficient 0 times CE = inf is 0 (_term), and a product
#    g*log q below -1500 (q^g = 0 in double, -inf included) is clamped before the exact split,
#    which would turn inf into NaN.

cdef extern from "cbce_math.h" nogil:
    double cbce_two_prod(double a, double b, double* err)
    double cbce_two_sum(double a, double b, double* err)
    double cbce_log_split(double x, double* lo)


cdef inline double _exp_scaled(double g, double hi, double lo) noexcept nogil:
    """exp(g*(hi + lo)) for g >= 0, g*(hi + lo) <= ~0; hi exact and large, lo small (Note E)."""
    cdef double pl, c
    cdef double ph = cbce_two_prod(g, hi, &pl)
    cdef double s = cbce_two_sum(ph, pl + g * lo, &c)
    # q^g = 0: also where ph = -inf (pl NaN) or lo = -inf (q = 0; c NaN); NaN fails both tests.
    cdef bint big = (ph < -1500.0) | (s < -1500.0)
    s = -1500.0 if big else s
    c = 0.0 if big else c
    cdef double E = cbce_exp_nonpos(s)
    # exp(s + c) = E*(1 + c): |c| <= ulp(s)/2 < 2^-42, so c^2/2 is below 2^-85.
    E = E + E * c
    return 1.0 if g == 0.0 else E             # g = 0 (alpha only): q^0 = 1, also for q = 0


cdef inline double _focal_logit_parts(double x, double y, double g, double* e_out, double* r_out,
                                      double* lp_out, double* rho) noexcept nogil:
    """Q = q^g (Note E); e = exp(-|x|), r = 1/(1+e), lp = log1p(e), rho = sigma(x)sigma(-x)/q."""
    cdef double ax = fabs(x)
    cdef double e = cbce_exp_nonpos(-ax)
    cdef double r = cbce_recip12(1.0 + e)
    cdef double lp = cbce_log1p_01(e)
    cdef double A = 1.0 - y if x >= 0.0 else y
    cdef double B = y if x >= 0.0 else 1.0 - y
    cdef bint hard = A == 0.0
    cdef double t = A + B * e
    cdef double lo
    cdef double hi = cbce_log_split(t, &lo)
    hi = -ax if hard else hi                  # log t = log e = -|x| exactly for a hard label
    lo = 0.0 if hard else lo
    e_out[0] = e
    r_out[0] = r
    lp_out[0] = lp
    rho[0] = r if hard else e * r / t
    return _exp_scaled(g, hi, lo - lp)


cdef inline double focal_logit_loss(double x, double y, double pw, double g,
                                    double at) noexcept nogil:
    cdef double e, r, lp, rho
    cdef double Q = _focal_logit_parts(x, y, g, &e, &r, &lp, &rho)
    cdef double ce = _term(1.0 - y, _pos(x) + lp) + _term(pw * y, _pos(-x) + lp)
    return (at * Q) * ce


cdef inline double focal_logit_loss_grad(double x, double y, double pw, double g, double at,
                                         double* grad) noexcept nogil:
    cdef double e, r, lp, rho
    cdef double Q = _focal_logit_parts(x, y, g, &e, &r, &lp, &rho)
    cdef double ce = _term(1.0 - y, _pos(x) + lp) + _term(pw * y, _pos(-x) + lp)
    cdef double sig_pos = r if x >= 0.0 else e * r
    cdef double sig_neg = e * r if x >= 0.0 else r
    cdef double ce1 = (1.0 - y) * sig_pos - pw * y * sig_neg
    cdef double aq = at * Q
    grad[0] = aq * (ce1 + _term(g * (1.0 - 2.0 * y) * rho, ce))
    return aq * ce


cdef inline double focal_logit_grad(double x, double y, double pw, double g,
                                    double at) noexcept nogil:
    cdef double gv
    focal_logit_loss_grad(x, y, pw, g, at, &gv)
    return gv


cdef inline double focal_logit_grad_hess(double x, double y, double pw, double g, double at,
                                         double* hess) noexcept nogil:
    cdef double e, r, lp, rho
    cdef double Q = _focal_logit_parts(x, y, g, &e, &r, &lp, &rho)
    cdef double ce = _term(1.0 - y, _pos(x) + lp) + _term(pw * y, _pos(-x) + lp)
    cdef double sig_pos = r if x >= 0.0 else e * r
    cdef double sig_neg = e * r if x >= 0.0 else r
    cdef double ce1 = (1.0 - y) * sig_pos - pw * y * sig_neg
    cdef double ce2 = (pw * y + (1.0 - y)) * (sig_pos * sig_neg)
    cdef double u1 = (1.0 - 2.0 * y) * rho
    cdef double aq = at * Q
    hess[0] = aq * (ce2 + 2.0 * g * u1 * ce1
                    + _term(g * u1 * ((sig_neg - sig_pos) + (g - 1.0) * u1), ce))
    return aq * (ce1 + _term(g * u1, ce))


# From probabilities: q = y*(1-x) + (1-y)*x (sum of non-negative terms), log q split as above.
# dl/dx = a_t*(Q*CE' + g*(1-2y)*Q*(CE/q)): CE/q -> 1 where q -> 0 (x -> y in {0, 1}), whereas
# Q/q = q^(g-1) overflows for a subnormal q and 0 < g < 1; q = 0 only where CE = 0: term 0 then.

cdef inline double _focal_prob_q(double x, double y, double g, double* q_out) noexcept nogil:
    cdef double q = y * (1.0 - x) + (1.0 - y) * x
    cdef double lo
    cdef double hi = cbce_log_split(q, &lo)
    q_out[0] = q
    return _exp_scaled(g, hi, lo)


cdef inline double focal_prob_loss(double x, double y, double pw, double g,
                                   double at) noexcept nogil:
    cdef double q
    cdef double Q = _focal_prob_q(x, y, g, &q)
    return (at * Q) * prob_loss(x, y, pw)


cdef inline double focal_prob_loss_grad(double x, double y, double pw, double g, double at,
                                        double floor, double* grad) noexcept nogil:
    cdef double q
    cdef double Q = _focal_prob_q(x, y, g, &q)
    cdef double ce = prob_loss(x, y, pw)
    cdef double ce1 = prob_grad(x, y, pw, floor)
    cdef double t2 = 0.0 if ce == 0.0 else g * (1.0 - 2.0 * y) * (Q * (ce / q))
    grad[0] = at * (Q * ce1 + t2)
    return (at * Q) * ce


cdef inline double focal_prob_grad(double x, double y, double pw, double g, double at,
                                   double floor) noexcept nogil:
    cdef double gv
    focal_prob_loss_grad(x, y, pw, g, at, floor, &gv)
    return gv
