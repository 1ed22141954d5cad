/* loops/bce_probs_f64.h -- BCE from float64 probabilities: loss, gradient, loss+gradient. */
#ifndef CBCE_BCE_PROBS_F64_H
#define CBCE_BCE_PROBS_F64_H

#include "loop_common.h"

/* Probabilities, math in double, x clipped to [lo, hi]: float64 (float32 below). */
#define CBCE_PROB_LOOPS(T, S)                                                                  \
static int cbce_prob_loss_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,        \
                              const T *P, double keep, double add, double lo, double hi,      \
                              double *buf)                                                    \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k];                                                           \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = (double)wk_ * cbce_prob_loss(x, yr * keep + add, pk_);                       \
    )                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_prob_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,        \
                              const T *P, double keep, double add, double lo, double hi,      \
                              double fl, double sc, T *g)                                     \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k];                                                           \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        g[k] = (T)(((double)wk_ * sc) * cbce_prob_grad(x, yr * keep + add, pk_, fl));         \
    )                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_prob_loss_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y,               \
                                   const T *W, const T *P, double keep, double add,           \
                                   double lo, double hi, double fl, double sc, double *buf,   \
                                   T *g)                                                      \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], x = X[k], w = wk_, gv;                                              \
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                            \
        x = cbce_clip(x, lo, hi);                                                              \
        buf[k] = w * cbce_prob_loss_grad(x, yr * keep + add, pk_, fl, &gv);                   \
        g[k] = (T)((w * sc) * gv);                                                            \
    )                                                                                         \
    return bad != 0;                                                                          \
}

CBCE_PROB_LOOPS(double, f64)

#endif /* CBCE_BCE_PROBS_F64_H */
