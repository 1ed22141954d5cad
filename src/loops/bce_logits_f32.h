/* loops/bce_logits_f32.h -- BCE from float32 logits in float arithmetic: loss, gradient,
 * loss+gradient (the float32 gradient+hessian is in bce_logits_f64.h, as f32d). */
#ifndef CBCE_BCE_LOGITS_F32_H
#define CBCE_BCE_LOGITS_F32_H

#include "loop_common.h"

/* float32 logits in float arithmetic (cbce_elementwise.h, note C). */
static int cbce_logit_loss_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                               const float *W, const float *P, float keep, float add,
                               double *buf)
{
    CBCE_FLAG_T(float) bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k];
        CBCE_FLAG(CBCE_BAD_Y(yr));
        buf[k] = wk_ * cbce_logit_loss_f(X[k], yr * keep + add, pk_);
    )
    return bad != 0;
}

static int cbce_logit_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                               const float *W, const float *P, float keep, float add, float sc,
                               float *g)
{
    CBCE_FLAG_T(float) bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k];
        CBCE_FLAG(CBCE_BAD_Y(yr));
        g[k] = (wk_ * sc) * cbce_logit_grad_f(X[k], yr * keep + add, pk_);
    )
    return bad != 0;
}

static int cbce_logit_loss_grad_f32(ptrdiff_t n, int uni, const float *X, const float *Y,
                                    const float *W, const float *P, float keep, float add,
                                    float sc, double *buf, float *g)
{
    CBCE_FLAG_T(float) bad = 0;
    CBCE_FOR_WP(float,
        float yr = Y[k], w = wk_, gv;
        CBCE_FLAG(CBCE_BAD_Y(yr));
        buf[k] = w * cbce_logit_loss_grad_f(X[k], yr * keep + add, pk_, &gv);
        g[k] = (w * sc) * gv;
    )
    return bad != 0;
}

#endif /* CBCE_BCE_LOGITS_F32_H */
