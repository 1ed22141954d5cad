/* loops/focal.h -- focal BCE from logits and probabilities, float64 and float32 inputs. */
#ifndef CBCE_FOCAL_H
#define CBCE_FOCAL_H

#include "loop_common.h"

/* Focal BCE (cbce_elementwise.h, notes E-G), math in double for both types. alpha < 0 is None:
   a_t = 1; else a_t = alpha*y + (1-alpha)*(1-y) on the smoothed label (Keras' order). */
#define CBCE_FOCAL_AT(al, y) ((al) < 0.0 ? 1.0 : (al) * (y) + (1.0 - (al)) * (1.0 - (y)))

#define CBCE_FOCAL_LOOPS(T, S)                                                                 \
static int cbce_focal_logit_loss_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,          \
                                     const T *P, double keep, double add, double g,           \
                                     double al, double *buf)                                  \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add;                                                \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        buf[k] = (double)W[k] * cbce_focal_logit_loss(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y)); \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_logit_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,          \
                                     const T *P, double keep, double add, double g,           \
                                     double al, double sc, T *gr)                             \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add;                                                \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        gr[k] = (T)(((double)W[k] * sc)                                                       \
                    * cbce_focal_logit_grad(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y)));         \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_logit_loss_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,     \
                                          const T *P, double keep, double add, double g,      \
                                          double al, double sc, double *buf, T *gr)           \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add, w = W[k], gv;                                  \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        buf[k] = w * cbce_focal_logit_loss_grad(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y), &gv); \
        gr[k] = (T)((w * sc) * gv);                                                           \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_logit_grad_hess_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,     \
                                          const T *P, double keep, double add, double g,      \
                                          double al, double sc, T *gr, T *h)                  \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], y = yr * keep + add, w = (double)W[k] * sc, hv;                     \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        double gv = cbce_focal_logit_grad_hess(X[k], y, P[k], g, CBCE_FOCAL_AT(al, y), &hv);  \
        gr[k] = (T)(w * gv);                                                                  \
        h[k] = (T)(w * hv);                                                                   \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_prob_loss_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,           \
                                    const T *P, double keep, double add, double lo,           \
                                    double hi, double g, double al, double *buf)              \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add;                                      \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = (double)W[k] * cbce_focal_prob_loss(x, y, P[k], g, CBCE_FOCAL_AT(al, y));    \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_prob_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,           \
                                    const T *P, double keep, double add, double lo,           \
                                    double hi, double g, double al, double fl, double sc,     \
                                    T *gr)                                                    \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add;                                      \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        gr[k] = (T)(((double)W[k] * sc)                                                       \
                    * cbce_focal_prob_grad(x, y, P[k], g, CBCE_FOCAL_AT(al, y), fl));         \
    }                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_focal_prob_loss_grad_##S(ptrdiff_t n, const T *X, const T *Y, const T *W,      \
                                         const T *P, double keep, double add, double lo,      \
                                         double hi, double g, double al, double fl,           \
                                         double sc, double *buf, T *gr)                       \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_SIMD_FLAG                                                                            \
    for (ptrdiff_t k = 0; k < n; k++) {                                                       \
        double yr = Y[k], x = X[k], y = yr * keep + add, w = W[k], gv;                        \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = w * cbce_focal_prob_loss_grad(x, y, P[k], g, CBCE_FOCAL_AT(al, y), fl, &gv); \
        gr[k] = (T)((w * sc) * gv);                                                           \
    }                                                                                         \
    return bad != 0;                                                                          \
}

CBCE_FOCAL_LOOPS(double, f64)
CBCE_FOCAL_LOOPS(float, f32)

#endif /* CBCE_FOCAL_H */
