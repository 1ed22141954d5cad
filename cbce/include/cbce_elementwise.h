/* cbce_elementwise.h -- per-element closed forms of binary cross-entropy.
 *
 * Layer 3 of cbce (facade -> entry points -> array loops -> these). Every function is pure,
 * allocates nothing and is force-inlined into the loops of src/_kernels_impl.pxi (a closed form
 * left out of line keeps its loop scalar). Inputs are already validated and label-smoothed; `pw`
 * is pos_weight; sample weights and the reduction scale are applied by the loops. Cython code
 * reaches them as cbce._elementwise / cbce.capi (logit_loss, logit_grad, ...).
 *
 * A. Logits. One exp and one log1p per element give every quantity (cbce_math.h: vectorizable,
 *    <= 1.5 ulp each, divide-free): with e = exp(-|x|) in [0, 1] and r = 1/(1+e):
 *    sigma(|x|) = r, sigma(-|x|) = e*r, softplus(+-x) = max(+-x, 0) + log1p(e).
 *    The loss (1-y)*softplus(x) + pw*y*softplus(-x) is a sum of non-negative terms, so it never
 *    cancels: PyTorch's max(x,0) - x*y + log1p(exp(-|x|)) returns 0 for y=0, x=-40 (exact
 *    4.2e-18) and scikit-learn's form loses every digit of y=1, x=40. Error budget per term:
 *    exp <= 1 ulp, log1p <= 1.5 ulp, the sum max(x,0) + log1p(e) of two non-negative numbers
 *    <= 0.5 ulp, the coefficient product 0.5 ulp: within the 4-ulp contract for loss, gradient
 *    and hessian (tests/test_extreme_values.py checks it against mpmath).
 * B. A zero coefficient contributes exactly zero (cbce_term), so an infinite logit gives the
 *    limit (loss 0 at y=1, x=+inf) instead of 0*inf = nan. A NaN logit still propagates through
 *    log1p(e).
 * C. float32 logits: loss, gradient and fused loss+gradient of float32 inputs are computed in
 *    float arithmetic (twice the SIMD lanes); each float helper is <= 1.5 float ulp and the
 *    budget of note A keeps the results within 4 float32 ulp. The hessian and the probability
 *    formulas of float32 inputs stay in double (a product of sigmas would not fit 4 ulp).
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
    return coef != 0.0 ? t : 0.0;     /* everywhere (GCC 13 gave up on conditional math) */
}

/* max(v, 0) as one select; NaN gives 0, and log1p(e) carries the NaN instead. */
static CBCE_INLINE double cbce_pos(double v) { return v > 0.0 ? v : 0.0; }

/* ---- from logits (note A) ---------------------------------------------------------------- */

static CBCE_INLINE double cbce_logit_loss(double x, double y, double pw)
{
    double lp = cbce_log1p_01(cbce_exp_nonpos(-fabs(x)));
    return cbce_term(1.0 - y, cbce_pos(x) + lp) + cbce_term(pw * y, cbce_pos(-x) + lp);
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
    *grad = (1.0 - y) * sig_pos - pw * y * sig_neg;
    return cbce_term(1.0 - y, cbce_pos(x) + lp) + cbce_term(pw * y, cbce_pos(-x) + lp);
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

static CBCE_INLINE float cbce_term_f(float coef, float value)
{
    float t = coef * value;
    return coef != 0.0f ? t : 0.0f;
}

static CBCE_INLINE float cbce_pos_f(float v) { return v > 0.0f ? v : 0.0f; }

static CBCE_INLINE float cbce_logit_loss_f(float x, float y, float pw)
{
    float lp = cbce_log1p_01_f(cbce_exp_nonpos_f(-fabsf(x)));
    return cbce_term_f(1.0f - y, cbce_pos_f(x) + lp) + cbce_term_f(pw * y, cbce_pos_f(-x) + lp);
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
    *grad = (1.0f - y) * sig_pos - pw * y * sig_neg;
    return cbce_term_f(1.0f - y, cbce_pos_f(x) + lp) + cbce_term_f(pw * y, cbce_pos_f(-x) + lp);
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

#endif /* CBCE_ELEMENTWISE_H */
