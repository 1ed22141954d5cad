/* loops/bce_logits_f64.h -- BCE from logits, math in double: float64 loss, gradient,
 * loss+gradient, gradient+hessian; and the float32 gradient+hessian (suffix f32d). */
#ifndef CBCE_BCE_LOGITS_F64_H
#define CBCE_BCE_LOGITS_F64_H

#include "loop_common.h"

/* Logits with the math in double (float64 inputs; float32 inputs for the hessian). */
#define CBCE_LOGIT_LOOPS_DOUBLE(T, S)                                                          \
static int cbce_logit_loss_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,       \
                               const T *P, double keep, double add, double *buf)              \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k];                                                                     \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        buf[k] = (double)wk_ * cbce_logit_loss(X[k], yr * keep + add, pk_);                   \
    )                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_logit_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,       \
                               const T *P, double keep, double add, double sc, T *g)          \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k];                                                                     \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        g[k] = (T)(((double)wk_ * sc) * cbce_logit_grad(X[k], yr * keep + add, pk_));         \
    )                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_logit_loss_grad_##S(ptrdiff_t n, int uni, const T *X, const T *Y,              \
                                    const T *W, const T *P, double keep, double add,          \
                                    double sc, double *buf, T *g)                             \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], w = wk_, gv;                                                        \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        buf[k] = w * cbce_logit_loss_grad(X[k], yr * keep + add, pk_, &gv);                   \
        g[k] = (T)((w * sc) * gv);                                                            \
    )                                                                                         \
    return bad != 0;                                                                          \
}                                                                                             \
static int cbce_logit_grad_hess_##S(ptrdiff_t n, int uni, const T *X, const T *Y,              \
                                    const T *W, const T *P, double keep, double add,          \
                                    double sc, T *g, T *h)                                    \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_FOR_WP(T,                                                                            \
        double yr = Y[k], w = (double)wk_ * sc, hv;                                           \
        CBCE_FLAG(CBCE_BAD_Y(yr));                                                            \
        double gv = cbce_logit_grad_hess(X[k], yr * keep + add, pk_, &hv);                    \
        g[k] = (T)(w * gv);                                                                   \
        h[k] = (T)(w * hv);                                                                   \
    )                                                                                         \
    return bad != 0;                                                                          \
}

CBCE_LOGIT_LOOPS_DOUBLE(double, f64)
CBCE_LOGIT_LOOPS_DOUBLE(float, f32d)      /* float32 inputs, double math: the hessian */

#endif /* CBCE_BCE_LOGITS_F64_H */
