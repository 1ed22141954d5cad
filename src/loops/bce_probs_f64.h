/* loops/bce_probs_f64.h -- BCE from float64 probabilities: loss, gradient, loss+gradient. */
#ifndef CBCE_BCE_PROBS_F64_H
#define CBCE_BCE_PROBS_F64_H

#include "loop_common.h"

/* cbce_prob_loss for y = 0 or 1, with the one log that such a y needs: log(x) for y = 1,
   log1p(-x) = log(u) + corr for y = 0, as one cbce_log of a selected argument. The same bits as
   cbce_prob_loss (up to the sign of a zero loss): the other log's term is (pw*0)*0 or 0*0 where
   cbce_prob_loss has (pw*0)*L or 0*L with L finite (clamped), NaN for an infinite pw alike.
   On 2-lane SSE2 the two logs cost 20.1 ns per element against 16.2 for glibc's scalar log and
   log1p (benchmarks/element_loops.sh, x86-64 baseline). */
static CBCE_INLINE double cbce_prob_loss_hard(double x, double y, double pw)
{
    double u, corr = cbce_log1p_corr(-x, &u);
    double l = cbce_clamped_log(cbce_log(y != 0.0 ? x : u) + (y != 0.0 ? 0.0 : corr));
    double l1 = y != 0.0 ? l : 0.0, l2 = y != 0.0 ? 0.0 : l;
    return -(pw * y * l1 + (1.0 - y) * l2);
}

/* Whether every label of the block is 0 or 1 after smoothing (then the loss loops take
   cbce_prob_loss_hard): one pass over Y, in cache. */
#define CBCE_PROB_ALL_HARD(T)                                                                  \
    int hard_ = keep == 1.0 && add == 0.0;                                                    \
    if (hard_) {                                                                              \
        CBCE_FLAG_T(T) soft_ = 0;                                                             \
        _Pragma("omp simd reduction(max:soft_)")                                              \
        for (ptrdiff_t k = 0; k < n; k++) {                                                   \
            double yh = Y[k];                                                                 \
            soft_ = ((yh != 0.0) & (yh != 1.0)) ? 1 : soft_;                                  \
        }                                                                                     \
        hard_ = soft_ == 0;                                                                   \
    }

/* Probabilities, math in double, x clipped to [lo, hi]: float64 (float32 below). */
#define CBCE_PROB_LOOPS(T, S)                                                                  \
static int cbce_prob_loss_##S(ptrdiff_t n, int uni, const T *X, const T *Y, const T *W,        \
                              const T *P, double keep, double add, double lo, double hi,      \
                              double *buf)                                                    \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    CBCE_PROB_ALL_HARD(T)                                                                     \
    if (hard_) {                                                                              \
        CBCE_FOR_WP(T,                                                                        \
            double yr = Y[k], x = X[k];                                                       \
            CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                        \
            x = cbce_clip(x, lo, hi);                                                          \
            buf[k] = (double)wk_ * cbce_prob_loss_hard(x, yr, pk_);                           \
        )                                                                                     \
        return bad != 0;                                                                      \
    }                                                                                         \
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
    CBCE_PROB_ALL_HARD(T)                                                                     \
    if (hard_) {                                                                              \
        CBCE_FOR_WP(T,                                                                        \
            double yr = Y[k], x = X[k], w = wk_;                                              \
            CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));                                        \
            x = cbce_clip(x, lo, hi);                                                          \
            buf[k] = w * cbce_prob_loss_hard(x, yr, pk_);                                     \
            g[k] = (T)((w * sc) * cbce_prob_grad(x, yr, pk_, fl));                            \
        )                                                                                     \
        return bad != 0;                                                                      \
    }                                                                                         \
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
