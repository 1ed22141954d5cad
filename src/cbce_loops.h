/* cbce_loops.h -- the element loops of one block, over contiguous inputs (src/_kernels_impl.pxi
 * makes the inputs contiguous, runs blocks on threads and sums the losses).
 *
 * Why in C: every loop carries `#pragma omp simd`. Without it, whether GCC vectorizes a loop
 * this long is a heuristic: GCC 12 did for every loop here, GCC 13 gave up if-converting the
 * fused loss+gradient and the probability loops (measured 10x slower). With it, the loop is
 * vectorized on the compiler's word (-fopenmp or -fopenmp-simd; where neither exists the pragma
 * is ignored and the loops stay correct). The pragma asserts what holds here: iterations are
 * independent, and outputs never alias inputs (an input that is also an output is copied to a
 * tile first), so reordering within a block changes nothing.
 *
 * One function per (operation, input kind, type); `bad` ORs the range checks of the block
 * (y_true outside [0, 1] or NaN; for probabilities y_pred too), branch-free. Losses go to `buf`
 * (doubles, weighted, unscaled); gradients and hessians are weighted and scaled by `sc`.
 */
#ifndef CBCE_LOOPS_H
#define CBCE_LOOPS_H

#include <stddef.h>

#include "cbce_elementwise.h"

#define CBCE_SIMD_OR _Pragma("omp simd reduction(|:bad)")
/* Outside [0, 1] or NaN: !(v >= 0) is true for NaN (one unordered comparison). */
#define CBCE_BAD_Y(v) (!((v) >= 0) | ((v) > 1))
#define CBCE_BAD_P(v) (!((v) >= 0) | ((v) > 1))

/* x clipped to [lo, hi] as one max and one min instruction (x86's maxpd/minpd are exactly
   a > b ? a : b). A NaN x becomes lo; it is already flagged by CBCE_BAD_P, so its value is
   never returned. */
static CBCE_INLINE double cbce_clip(double x, double lo, double hi)
{
    x = x > lo ? x : lo;
    return x < hi ? x : hi;
}
static CBCE_INLINE float cbce_clip_f(float x, float lo, float hi)
{
    x = x > lo ? x : lo;
    return x < hi ? x : hi;
}

/* The element loop of one function, twice: with per-element weights (W[k], P[k]) and, when
   `uni` is set, with one sample weight and one pos_weight for the whole block (no weights
   given, or scalars): then the caller fills no tiles and the loop loads two streams fewer. The
   body reads its weights as wk_ and pk_. */
#define CBCE_FOR_WP(T, ...)                                                                    \
    if (uni) {                                                                                \
        const T wk_ = W[0], pk_ = P[0];                                                       \
        CBCE_SIMD_OR                                                                          \
        for (ptrdiff_t k = 0; k < n; k++) { __VA_ARGS__ }                                     \
    } else {                                                                                  \
        CBCE_SIMD_OR                                                                          \
        for (ptrdiff_t k = 0; k < n; k++) { const T wk_ = W[k], pk_ = P[k]; __VA_ARGS__ }     \
    }

/* Logits with the math in double (float64 inputs; float32 inputs for the hessian). */
#define CBCE_LOGIT_LOOPS_DOUBLE(T, S)                                                          \
static int cbce_logit_loss_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,       \
                               const T *P, double keep, double add, double *buf)              \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k];                                                                     \
        bad |= CBCE_BAD_Y(yr);                                                                \
        buf[k] = (double)wk_ * cbce_logit_loss(X[k], yr * keep + add, pk_);                   \
    )                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_logit_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,       \
                               const T *P, double keep, double add, double sc, T *g)          \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k];                                                                     \
        bad |= CBCE_BAD_Y(yr);                                                                \
        g[k] = (T)(((double)wk_ * sc) * cbce_logit_grad(X[k], yr * keep + add, pk_));         \
    )                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_logit_loss_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y,              \
                                    const T *W, const T *P, double keep, double add,          \
                                    double sc, double *buf, T *g)                             \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], w = wk_, gv;                                                        \
        bad |= CBCE_BAD_Y(yr);                                                                \
        buf[k] = w * cbce_logit_loss_grad(X[k], yr * keep + add, pk_, &gv);                   \
        g[k] = (T)((w * sc) * gv);                                                            \
    )                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_logit_grad_hess_##S(ptrdiff_t n, int uni, const T *X, const T *Y,              \
                                    const T *W, const T *P, double keep, double add,          \
                                    double sc, T *g, T *h)                                    \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], w = (double)wk_ * sc, hv;                                           \
        bad |= CBCE_BAD_Y(yr);                                                                \
        double gv = cbce_logit_grad_hess(X[k], yr * keep + add, pk_, &hv);                    \
        g[k] = (T)(w * gv);                                                                   \
        h[k] = (T)(w * hv);                                                                   \
    )                                                                                         \
    return bad;                                                                               \
}

/* Probabilities, math in double, x clipped to [lo, hi]: float64 (float32 below). */
#define CBCE_PROB_LOOPS(T, S)                                                                  \
static int cbce_prob_loss_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,        \
                              const T *P, double keep, double add, double lo, double hi,      \
                              double *buf)                                                    \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k];                                                           \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = (double)wk_ * cbce_prob_loss(x, yr * keep + add, pk_);                       \
    )                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_prob_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,        \
                              const T *P, double keep, double add, double lo, double hi,      \
                              double fl, double sc, T *g)                                     \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k];                                                           \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        g[k] = (T)(((double)wk_ * sc) * cbce_prob_grad(x, yr * keep + add, pk_, fl));         \
    )                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_prob_loss_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y,               \
                                   const T *W, const T *P, double keep, double add,           \
                                   double lo, double hi, double fl, double sc, double *buf,   \
                                   T *g)                                                      \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k], w = wk_, gv;                                              \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = w * cbce_prob_loss_grad(x, yr * keep + add, pk_, fl, &gv);                   \
        g[k] = (T)((w * sc) * gv);                                                            \
    )                                                                                         \
    return bad;                                                                               \
}

/* The range checks alone (OP_CHECK). */
#define CBCE_CHECK(T, S)                                                                       \
static int cbce_check_##S(ptrdiff_t n, const T *X, const T *Y, int probabilities)             \
{                                                                                             \
    int bad = 0;                                                                              \
    if (probabilities) {                                                                      \
        CBCE_SIMD_OR                                                                          \
        for (ptrdiff_t k = 0; k < n; k++) bad |= CBCE_BAD_Y(Y[k]) | CBCE_BAD_P(X[k]);         \
    } else {                                                                                  \
        CBCE_SIMD_OR                                                                          \
        for (ptrdiff_t k = 0; k < n; k++) bad |= CBCE_BAD_Y(Y[k]);                            \
    }                                                                                         \
    return bad;                                                                               \
}

CBCE_LOGIT_LOOPS_DOUBLE(double, f64)
CBCE_LOGIT_LOOPS_DOUBLE(float, f32d)      /* float32 inputs, double math: the hessian */
CBCE_PROB_LOOPS(double, f64)
CBCE_CHECK(double, f64)
CBCE_CHECK(float, f32)

/* float32 probabilities: the loss in float arithmetic, the gradient in double (cbce_elementwise.h,
   note D'); the label (smoothed) and the clip in float, as for float32 logits. lo and hi are
   float32 values (the facade rounds eps to the input's type). */
static int cbce_prob_loss_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                              const float *W, const float *P, double keep, double add,
                              double lo, double hi, double *buf)
{
    int bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k];
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);
        x = cbce_clip_f(x, lof, hif);
        buf[k] = wk_ * cbce_prob_loss_f(x, yr * kf + af, pk_);
    )
    return bad;
}

static int cbce_prob_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                              const float *W, const float *P, double keep, double add,
                              double lo, double hi, double fl, double sc, float *g)
{
    int bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k];
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);
        x = cbce_clip_f(x, lof, hif);
        g[k] = (float)(((double)wk_ * sc) * cbce_prob_grad(x, yr * kf + af, pk_, fl));
    )
    return bad;
}

static int cbce_prob_loss_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                                   const float *W, const float *P, double keep, double add,
                                   double lo, double hi, double fl, double sc, double *buf,
                                   float *g)
{
    int bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k], w = wk_, y;
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);
        x = cbce_clip_f(x, lof, hif);
        y = yr * kf + af;
        buf[k] = w * cbce_prob_loss_f(x, y, pk_);
        g[k] = (float)(((double)w * sc) * cbce_prob_grad(x, y, pk_, fl));
    )
    return bad;
}

/* float32 logits in float arithmetic (cbce_elementwise.h, note C). */
static int cbce_logit_loss_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                               const float *W, const float *P, float keep, float add,
                               double *buf)
{
    int bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k];
        bad |= CBCE_BAD_Y(yr);
        buf[k] = wk_ * cbce_logit_loss_f(X[k], yr * keep + add, pk_);
    )
    return bad;
}

static int cbce_logit_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                               const float *W, const float *P, float keep, float add, float sc,
                               float *g)
{
    int bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k];
        bad |= CBCE_BAD_Y(yr);
        g[k] = (wk_ * sc) * cbce_logit_grad_f(X[k], yr * keep + add, pk_);
    )
    return bad;
}

static int cbce_logit_loss_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                                    const float *W, const float *P, float keep, float add,
                                    float sc, double *buf, float *g)
{
    int bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k], w = wk_, gv;
        bad |= CBCE_BAD_Y(yr);
        buf[k] = w * cbce_logit_loss_grad_f(X[k], yr * keep + add, pk_, &gv);
        g[k] = (w * sc) * gv;
    )
    return bad;
}

/* Focal BCE (cbce_elementwise.h, notes E-G), math in double for both types. alpha < 0 is None:
   a_t = 1; else a_t = alpha*y + (1-alpha)*(1-y) on the smoothed label (Keras' order). */
#define CBCE_FOCAL_AT(al, y) ((al) < 0.0 ? 1.0 : (al) * (y) + (1.0 - (al)) * (1.0 - (y)))

#define CBCE_FOCAL_LOOPS(T, S)                                                                 \
static int cbce_focal_logit_loss_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,          \
                                     const T *P, double keep, double add, double g,           \
                                     double al, double *buf)                                  \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add;                                                \
        bad |= CBCE_BAD_Y(yr);                                                                \
        buf[k] = (double)W[k] * cbce_focal_logit_loss(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y)); \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_logit_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,          \
                                     const T *P, double keep, double add, double g,           \
                                     double al, double sc, T *gr)                             \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add;                                                \
        bad |= CBCE_BAD_Y(yr);                                                                \
        gr[k] = (T)(((double)W[k] * sc)                                                       \
                    * cbce_focal_logit_grad(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y)));         \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_logit_loss_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,     \
                                          const T *P, double keep, double add, double g,      \
                                          double al, double sc, double *buf, T *gr)           \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add, w = W[k], gv;                                  \
        bad |= CBCE_BAD_Y(yr);                                                                \
        buf[k] = w * cbce_focal_logit_loss_grad(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y), &gv); \
        gr[k] = (T)((w * sc) * gv);                                                           \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_logit_grad_hess_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,     \
                                          const T *P, double keep, double add, double g,      \
                                          double al, double sc, T *gr, T *h)                  \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add, w = (double)W[k] * sc, hv;                     \
        bad |= CBCE_BAD_Y(yr);                                                                \
        double gv = cbce_focal_logit_grad_hess(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y), &hv);  \
        gr[k] = (T)(w * gv);                                                                  \
        h[k] = (T)(w * hv);                                                                   \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_prob_loss_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,           \
                                    const T *P, double keep, double add, double lo,           \
                                    double hi, double g, double al, double *buf)              \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add;                                      \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = (double)W[k] * cbce_focal_prob_loss(x, y, P[k], g, CBCE_FOCAL_AT(al, y));    \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_prob_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,           \
                                    const T *P, double keep, double add, double lo,           \
                                    double hi, double g, double al, double fl, double sc,     \
                                    T *gr)                                                    \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add;                                      \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        gr[k] = (T)(((double)W[k] * sc)                                                       \
                    * cbce_focal_prob_grad(x, y, P[k], g, CBCE_FOCAL_AT(al, y), fl));         \
    }                                                                                         \
    return bad;                                                                               \
}                                                                                             \
static int cbce_focal_prob_loss_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,      \
                                         const T *P, double keep, double add, double lo,      \
                                         double hi, double g, double al, double fl,           \
                                         double sc, double *buf, T *gr)                       \
{                                                                                             \
    int bad = 0;                                                                              \
    CBCE_SIMD_OR                                                                              \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add, w = W[k], gv;                        \
        bad |= CBCE_BAD_Y(yr) | CBCE_BAD_P(x);                                                \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = w * cbce_focal_prob_loss_grad(x, y, P[k], g, CBCE_FOCAL_AT(al, y), fl, &gv); \
        gr[k] = (T)((w * sc) * gv);                                                           \
    }                                                                                         \
    return bad;                                                                               \
}

CBCE_FOCAL_LOOPS(double, f64)
CBCE_FOCAL_LOOPS(float, f32)

#endif /* CBCE_LOOPS_H */
