/* cbce_elementwise.h -- per-element closed forms of binary cross-entropy.
 *
 * Layer 3 of cbce (facade -> entry points -> array loops -> these). Every function is pure,
 * allocates nothing and is force-inlined into the loops of src/_kernels_impl.pxi (a closed form
 * left out of line keeps its loop scalar). Inputs are already validated and label-smoothed; `pw`
 * is pos_weight; sample weights and the reduction scale are applied by the loops. Cython code
 * reaches them as cbce._elementwise / cbce.capi (logit_loss, logit_grad, ...).
 *
 * A. Logits. One exp and one log1p per element give every quantity (cbce_math.h: vectorizable,
 *    <= 1.5 ulp each): with e = exp(-|x|) in [0, 1] and r = 1/(1+e):
 *    sigma(|x|) = r, sigma(-|x|) = e*r, softplus(+-x) = max(+-x, 0) + log1p(e).
 *    The loss (1-y)*softplus(x) + pw*y*softplus(-x) is a sum of non-negative terms, so it never
 *    cancels: PyTorch's max(x,0) - x*y + log1p(exp(-|x|)) returns 0 for y=0, x=-40 (exact
 *    4.2e-18) and scikit-learn's form loses every digit of y=1, x=40. Error budget per term:
 *    exp <= 1 ulp, log1p <= 1.5 ulp, the sum max(x,0) + log1p(e) of two non-negative numbers
 *    <= 0.5 ulp, the coefficient product 0.5 ulp: within the 4-ulp contract, which reads: the
 *    loss and the hessian within 4 ulp of the exact value, the gradient within 4 ulp of the size
 *    of its terms (sigma and y: a gradient that cancels, soft labels near sigma(x), is exact to
 *    that absolute size, not to 4 ulp of its own value). tests/test_extreme_values.py checks it
 *    against mpmath.
 * B. A zero coefficient contributes exactly zero (cbce_logit_loss_lp, cbce_term), so an
 *    infinite logit gives the limit (loss 0 at y=1, x=+inf) instead of 0*inf = nan. A NaN logit
 *    still propagates, also into a term whose coefficient is 0 (y=1 with pos_weight=0).
 * C. float32 logits: loss, gradient and fused loss+gradient of float32 inputs are computed in
 *    float arithmetic (twice the SIMD lanes); each float helper is <= 1.5 float ulp and the
 *    budget of note A keeps the results within note A's contract in float32 ulp. The fused
 *    gradient+hessian is double, rounded once, so its float32 gradient may differ from the
 *    float one by up to 2 x 4 float32 ulp of the size of the terms (C API reference,
 *    "Accuracy"). The hessian and the probability gradients of float32 probabilities stay in
 *    double (a product of sigmas, a cancelling numerator would not fit 4 ulp); the loss of
 *    float32 probabilities is float (note D').
 * D. Probabilities. log is clamped at -100 as PyTorch does (binary_cross_entropy, Loss.cpp), so
 *    a saturated prediction costs 100 instead of inf; the gradient denominator x*(1-x) is
 *    floored at `floor` (PyTorch's EPSILON = 1e-12, a float32 constant, passed by the caller).
 */
#ifndef CBCE_ELEMENTWISE_H
#define CBCE_ELEMENTWISE_H

#include "cbce_math.h"

/* Note B: 0 * inf must be 0 here (infinite logit, coefficient 0), not nan. */
static CBCE_INLINE double cbce_term(double coef, double value)
{
    double t = coef * value;          /* computed first: selects of ready values if-convert */
    /* everywhere (GCC 13 gave up on conditional math); a NaN value still propagates. */
    return (coef != 0.0) | (value != value) ? t : 0.0;
}

/* max(v, 0) as one select; NaN gives 0, and log1p(e) carries the NaN instead. */
static CBCE_INLINE double cbce_pos(double v) { return v > 0.0 ? v : 0.0; }

/* ---- from logits (note A) ---------------------------------------------------------------- */

/* The loss of note A as (coefficient of |x|)*|x| + ((1-y) + pw*y)*log1p(e): for x >= 0 it is
   (1-y)*x + (1-y)*log1p(e) + pw*y*log1p(e), for x < 0 the same with pw*y*|x|. Two non-negative
   terms (no cancellation); a zero coefficient of an infinite |x| contributes 0 (note B), and a
   NaN x gives a NaN log1p(e), which propagates through any coefficient (0*NaN is NaN). */
static CBCE_INLINE double cbce_logit_loss_lp(double x, double c0, double c1, double lp)
{
    double a = x >= 0.0 ? c0 : c1;
    double t = a * fabs(x);
    t = a != 0.0 ? t : 0.0;
    return (c0 + c1) * lp + t;
}

static CBCE_INLINE double cbce_logit_loss(double x, double y, double pw)
{
    double lp = cbce_log1p_01(cbce_exp_nonpos(-fabs(x)));
    return cbce_logit_loss_lp(x, 1.0 - y, pw * y, lp);
}

static CBCE_INLINE double cbce_logit_grad(double x, double y, double pw)
{
    double e = cbce_exp_nonpos(-fabs(x));
    double r = cbce_recip12(1.0 + e);                   /* sigma(|x|) */
    double er = e * r;                                  /* sigma(-|x|) */
    double sig_pos = x >= 0.0 ? r : er;                 /* sigma(x) */
    double sig_neg = x >= 0.0 ? er : r;                 /* sigma(-x) */
    return (1.0 - y) * sig_pos - pw * y * sig_neg;
}

static CBCE_INLINE double cbce_logit_loss_grad(double x, double y, double pw, double *grad)
{
    double e = cbce_exp_nonpos(-fabs(x));
    double lp = cbce_log1p_01(e);
    double r = cbce_recip12(1.0 + e);
    double er = e * r;
    double sig_pos = x >= 0.0 ? r : er;
    double sig_neg = x >= 0.0 ? er : r;
    double c0 = 1.0 - y, c1 = pw * y;
    *grad = c0 * sig_pos - c1 * sig_neg;
    return cbce_logit_loss_lp(x, c0, c1, lp);
}

static CBCE_INLINE double cbce_logit_grad_hess(double x, double y, double pw, double *hess)
{
    double e = cbce_exp_nonpos(-fabs(x));
    double r = cbce_recip12(1.0 + e);
    double er = e * r;
    double sig_pos = x >= 0.0 ? r : er;
    double sig_neg = x >= 0.0 ? er : r;
    /* sigma(x)*sigma(-x) = e*r*r: a product, no 1 - sigma cancellation at large |x|. */
    *hess = (pw * y + (1.0 - y)) * (sig_pos * sig_neg);
    return (1.0 - y) * sig_pos - pw * y * sig_neg;
}

/* ---- from logits, float32 arithmetic (note C) --------------------------------------------- */

static CBCE_INLINE float cbce_logit_loss_lp_f(float x, float c0, float c1, float lp)
{
    float a = x >= 0.0f ? c0 : c1;
    float t = a * fabsf(x);
    t = a != 0.0f ? t : 0.0f;
    return (c0 + c1) * lp + t;
}

static CBCE_INLINE float cbce_logit_loss_f(float x, float y, float pw)
{
    float lp = cbce_log1p_01_f(cbce_exp_nonpos_f(-fabsf(x)));
    return cbce_logit_loss_lp_f(x, 1.0f - y, pw * y, lp);
}

static CBCE_INLINE float cbce_logit_grad_f(float x, float y, float pw)
{
    float e = cbce_exp_nonpos_f(-fabsf(x));
    float r = cbce_recip12_f(1.0f + e);
    float er = e * r;
    float sig_pos = x >= 0.0f ? r : er;
    float sig_neg = x >= 0.0f ? er : r;
    return (1.0f - y) * sig_pos - pw * y * sig_neg;
}

static CBCE_INLINE float cbce_logit_loss_grad_f(float x, float y, float pw, float *grad)
{
    float e = cbce_exp_nonpos_f(-fabsf(x));
    float lp = cbce_log1p_01_f(e);
    float r = cbce_recip12_f(1.0f + e);
    float er = e * r;
    float sig_pos = x >= 0.0f ? r : er;
    float sig_neg = x >= 0.0f ? er : r;
    float c0 = 1.0f - y, c1 = pw * y;
    *grad = c0 * sig_pos - c1 * sig_neg;
    return cbce_logit_loss_lp_f(x, c0, c1, lp);
}

/* ---- from probabilities (note D); x is already clipped to [lo, hi] by the loop ---------- */

/* PyTorch clamps log at -100 (Loss.cpp, binary_cross_entropy): log(0) = -inf costs 100. */
static CBCE_INLINE double cbce_clamped_log(double v) { return v > -100.0 ? v : -100.0; }

static CBCE_INLINE double cbce_prob_loss(double x, double y, double pw)
{
    return -(pw * y * cbce_clamped_log(cbce_log(x))
             + (1.0 - y) * cbce_clamped_log(cbce_log1p(-x)));
}

static CBCE_INLINE double cbce_prob_grad(double x, double y, double pw, double floor)
{
    double d = x * (1.0 - x);
    return ((1.0 - y) * x - pw * y * (1.0 - x)) / (d > floor ? d : floor);
}

static CBCE_INLINE double cbce_prob_loss_grad(double x, double y, double pw, double floor,
                                              double *grad)
{
    *grad = cbce_prob_grad(x, y, pw, floor);
    return cbce_prob_loss(x, y, pw);
}

/* float32 probabilities (note D'): the loss in float arithmetic, two float logs, each <= 1.5
   float ulp; the two terms are non-negative, so the loss stays within 4 float32 ulp. The
   gradient of float32 inputs stays in double (cbce_prob_grad): its numerator
   (1-y)*x - pw*y*(1-x) cancels where x is near a soft label, and double products of float32
   values are exact there. */
static CBCE_INLINE float cbce_clamped_log_f(float v) { return v > -100.0f ? v : -100.0f; }

static CBCE_INLINE float cbce_prob_loss_f(float x, float y, float pw)
{
    return -(pw * y * cbce_clamped_log_f(cbce_log_f(x))
             + (1.0f - y) * cbce_clamped_log_f(cbce_log1p_f(-x)));
}

/* ---- focal BCE (docs: "Focal loss and multi-class") --------------------------------------------
 *
 * l = a_t * q^g * CE with q = 1 - p_t = y*sigma(-x) + (1-y)*sigma(x) for logits, y*(1-x) + (1-y)*x
 * for probabilities; a_t = alpha*y + (1-alpha)*(1-y) (1 without alpha), CE the plain forms
 * above (pos_weight included): torchvision's sigmoid_focal_loss, optax's, Keras'
 * BinaryFocalCrossentropy(apply_class_balancing=True). The loops pass a_t; g = 0 without alpha
 * never reaches these (the plain forms run).
 *
 * E. Log space. q^g is exp(g*log q), never a power of a rounded q: with e = exp(-|x|),
 *    r = 1/(1+e), q = r*t where t = A + B*e, (A, B) = (1-y, y) for x >= 0 and (y, 1-y) for
 *    x < 0, so log q = log t - log1p(e). For a hard label (A = 0) log t = -|x| exactly:
 *    q = sigma(-|x|) underflows at |x| > 745 but its log does not. g*log q is formed as an exact
 *    product plus a small remainder (cbce_two_prod, cbce_log_split) and exponentiated with its
 *    rounding error carried (cbce_two_sum): exp(z) alone loses |z|*eps (z = -500: ~250 ulp).
 *    What remains is log q's own rounding, ~1 ulp of |log q| times g: the (4 + g)-ulp bound
 *    of tests/test_focal.py (measured 2.4 ulp at g <= 2, 10.6 at g = 10).
 * F. Derivatives without q^(g-1). d log q/dx = (1-2y)*rho, rho = sigma(x)sigma(-x)/q = e*r/t
 *    (= r for A = 0), finite everywhere: the gradient a_t*Q*(CE' + g*(1-2y)*rho*CE) and the
 *    hessian stay finite for 0 < g < 1 and at saturated logits, where autograd through
 *    (1 - p_t)**g gives g*0^(g-1)*0 = inf*0 = NaN (the reports filed against optax and kornia).
 *    Hessian: a_t*Q*(CE'' + 2g*u'*CE' + g*u'*(D + (g-1)*u')*CE), u' = (1-2y)*rho,
 *    D = sigma(-x) - sigma(x) (from u'' = u'*(D - u')). Where |x| > 708 e is subnormal and the
 *    hessian's e*CE terms carry its absolute error 2^-1075 times CE ~ |x| (results < 1e-319).
 * G. Infinite logits give the limits: a zero coefficient times CE = inf is 0 (cbce_term), and a
 *    product g*log q below -1500 (q^g = 0 in double; -inf too) is clamped before the exact
 *    split, which would turn inf into NaN.
 */

/* exp(g*(hi + lo)) for g >= 0 and g*(hi + lo) <= ~0; hi exact and large, lo small (note E). */
static CBCE_INLINE double cbce_exp_scaled(double g, double hi, double lo)
{
    double pl, c;
    double ph = cbce_two_prod(g, hi, &pl);
    double s = cbce_two_sum(ph, pl + g * lo, &c);
    /* q^g = 0: also where ph = -inf (pl NaN) or lo = -inf (q = 0, c NaN); NaN fails both. */
    int big = (ph < -1500.0) | (s < -1500.0);
    s = big ? -1500.0 : s;
    c = big ? 0.0 : c;
    double E = cbce_exp_nonpos(s);
    E = E + E * c;                 /* exp(s + c) = E*(1 + c): |c| < 2^-42, c^2/2 < 2^-85 */
    return g == 0.0 ? 1.0 : E;     /* g = 0 (alpha only): q^0 = 1, also for q = 0 */
}

/* Q = q^g for logits (note E); e = exp(-|x|), r = 1/(1+e), lp = log1p(e) and
   rho = sigma(x)sigma(-x)/q (note F) for the derivatives. */
static CBCE_INLINE double cbce_focal_logit_parts(double x, double y, double g, double *e_out,
                                                 double *r_out, double *lp_out, double *rho)
{
    double ax = fabs(x);
    double e = cbce_exp_nonpos(-ax);
    double r = cbce_recip12(1.0 + e);
    double lp = cbce_log1p_01(e);
    double A = x >= 0.0 ? 1.0 - y : y;
    double B = x >= 0.0 ? y : 1.0 - y;
    int hard = A == 0.0;
    double t = A + B * e;
    double lo;
    double hi = cbce_log_split(t, &lo);
    double ratio = e * r / t;
    hi = hard ? -ax : hi;          /* log t = log e = -|x| exactly for a hard label */
    lo = hard ? 0.0 : lo;
    *e_out = e;
    *r_out = r;
    *lp_out = lp;
    *rho = hard ? r : ratio;
    return cbce_exp_scaled(g, hi, lo - lp);
}

static CBCE_INLINE double cbce_focal_logit_loss(double x, double y, double pw, double g,
                                                double at)
{
    double e, r, lp, rho;
    double Q = cbce_focal_logit_parts(x, y, g, &e, &r, &lp, &rho);
    double ce = cbce_term(1.0 - y, cbce_pos(x) + lp) + cbce_term(pw * y, cbce_pos(-x) + lp);
    return (at * Q) * ce;
}

static CBCE_INLINE double cbce_focal_logit_loss_grad(double x, double y, double pw, double g,
                                                     double at, double *grad)
{
    double e, r, lp, rho;
    double Q = cbce_focal_logit_parts(x, y, g, &e, &r, &lp, &rho);
    double ce = cbce_term(1.0 - y, cbce_pos(x) + lp) + cbce_term(pw * y, cbce_pos(-x) + lp);
    double er = e * r;
    double sig_pos = x >= 0.0 ? r : er;
    double sig_neg = x >= 0.0 ? er : r;
    double ce1 = (1.0 - y) * sig_pos - pw * y * sig_neg;
    double aq = at * Q;
    *grad = aq * (ce1 + cbce_term(g * (1.0 - 2.0 * y) * rho, ce));
    return aq * ce;
}

static CBCE_INLINE double cbce_focal_logit_grad(double x, double y, double pw, double g,
                                                double at)
{
    double gv;
    cbce_focal_logit_loss_grad(x, y, pw, g, at, &gv);
    return gv;
}

static CBCE_INLINE double cbce_focal_logit_grad_hess(double x, double y, double pw, double g,
                                                     double at, double *hess)
{
    double e, r, lp, rho;
    double Q = cbce_focal_logit_parts(x, y, g, &e, &r, &lp, &rho);
    double ce = cbce_term(1.0 - y, cbce_pos(x) + lp) + cbce_term(pw * y, cbce_pos(-x) + lp);
    double er = e * r;
    double sig_pos = x >= 0.0 ? r : er;
    double sig_neg = x >= 0.0 ? er : r;
    double ce1 = (1.0 - y) * sig_pos - pw * y * sig_neg;
    double ce2 = (pw * y + (1.0 - y)) * (sig_pos * sig_neg);
    double u1 = (1.0 - 2.0 * y) * rho;
    double aq = at * Q;
    *hess = aq * (ce2 + 2.0 * g * u1 * ce1
                  + cbce_term(g * u1 * ((sig_neg - sig_pos) + (g - 1.0) * u1), ce));
    return aq * (ce1 + cbce_term(g * u1, ce));
}

/* From probabilities: q = y*(1-x) + (1-y)*x (a sum of non-negative terms), log q split as above.
   dl/dx = a_t*(Q*CE' + g*(1-2y)*Q*(CE/q)): CE/q -> 1 where q -> 0 (x -> y in {0, 1}), whereas
   Q/q = q^(g-1) overflows for a subnormal q and 0 < g < 1; q = 0 only where CE = 0: 0 then. */
static CBCE_INLINE double cbce_focal_prob_q(double x, double y, double g, double *q_out)
{
    double q = y * (1.0 - x) + (1.0 - y) * x;
    double lo;
    double hi = cbce_log_split(q, &lo);
    *q_out = q;
    return cbce_exp_scaled(g, hi, lo);
}

static CBCE_INLINE double cbce_focal_prob_loss(double x, double y, double pw, double g,
                                               double at)
{
    double q;
    double Q = cbce_focal_prob_q(x, y, g, &q);
    return (at * Q) * cbce_prob_loss(x, y, pw);
}

static CBCE_INLINE double cbce_focal_prob_loss_grad(double x, double y, double pw, double g,
                                                    double at, double floor, double *grad)
{
    double q;
    double Q = cbce_focal_prob_q(x, y, g, &q);
    double ce = cbce_prob_loss(x, y, pw);
    double ce1 = cbce_prob_grad(x, y, pw, floor);
    double t2 = g * (1.0 - 2.0 * y) * (Q * (ce / q));
    *grad = at * (Q * ce1 + (ce == 0.0 ? 0.0 : t2));
    return (at * Q) * ce;
}

static CBCE_INLINE double cbce_focal_prob_grad(double x, double y, double pw, double g,
                                               double at, double floor)
{
    double gv;
    cbce_focal_prob_loss_grad(x, y, pw, g, at, floor, &gv);
    return gv;
}

#endif /* CBCE_ELEMENTWISE_H */
