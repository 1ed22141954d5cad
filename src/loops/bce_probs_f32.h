/* loops/bce_probs_f32.h -- BCE from float32 probabilities: loss, gradient, loss+gradient. */
#ifndef CBCE_BCE_PROBS_F32_H
#define CBCE_BCE_PROBS_F32_H

#include "loop_common.h"

/* float32 probabilities: the loss in float arithmetic, the gradient in double (cbce_elementwise.h,
   note D'); the label (smoothed) and the clip in float, as for float32 logits. lo and hi are
   float32 values (the facade rounds eps to the input's type). */
static int cbce_prob_loss_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                              const float *W, const float *P, double keep, double add,
                              double lo, double hi, double *buf)
{
    CBCE_FLAG_T(float) bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k];
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));
        x = cbce_clip_f(x, lof, hif);
        buf[k] = wk_ * cbce_prob_loss_f(x, yr * kf + af, pk_);
    )
    return bad != 0;
}

static int cbce_prob_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                              const float *W, const float *P, double keep, double add,
                              double lo, double hi, double fl, double sc, float *g)
{
    CBCE_FLAG_T(float) bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k];
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));
        x = cbce_clip_f(x, lof, hif);
        g[k] = (float)(((double)wk_ * sc) * cbce_prob_grad(x, yr * kf + af, pk_, fl));
    )
    return bad != 0;
}

static int cbce_prob_loss_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                                   const float *W, const float *P, double keep, double add,
                                   double lo, double hi, double fl, double sc, double *buf,
                                   float *g)
{
    CBCE_FLAG_T(float) bad = 0;
    float kf = (float)keep, af = (float)add, lof = (float)lo, hif = (float)hi;
    CBCE_FOR_WP(float,
        float yr = Y[k], x = X[k], w = wk_, y;
        CBCE_FLAG(CBCE_BAD_Y(yr) | CBCE_BAD_P(x));
        x = cbce_clip_f(x, lof, hif);
        y = yr * kf + af;
        buf[k] = w * cbce_prob_loss_f(x, y, pk_);
        g[k] = (float)(((double)w * sc) * cbce_prob_grad(x, y, pk_, fl));
    )
    return bad != 0;
}

#endif /* CBCE_BCE_PROBS_F32_H */
