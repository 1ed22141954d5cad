/* loops/table.c -- the loop table of one CPU target (loops/table.h).
 *
 * setup.py compiles this file once per target with that target's flags and -DCBCE_TARGET=<name>
 * (baseline: no -march, runs on every CPU of the architecture; on x86-64 also sse42:
 * -march=x86-64-v2, avx2: -march=x86-64-v3, avx512: -march=x86-64-v4, where the compiler
 * accepts them); each object defines `const cbce_loop_table cbce_loops_<name>`. Only this
 * translation unit sees the target's instructions: the loops and the cbce_math.h helpers they
 * inline are vectorized for it, and nothing else in the extension is.
 */
#include "table.h"

#include "bce_loops.h"
#include "softmax.h"

#ifndef CBCE_TARGET
#error "compile src/loops/table.c with -DCBCE_TARGET=<target name> (setup.py does)"
#endif

#define CBCE_PASTE_(a, b) a##b
#define CBCE_PASTE(a, b) CBCE_PASTE_(a, b)
#define CBCE_STR_(a) #a
#define CBCE_STR(a) CBCE_STR_(a)

#define CBCE_MATH_LOOP(expr)                                                                   \
    _Pragma("omp simd")                                                                       \
    for (ptrdiff_t k = 0; k < n; k++)                                                         \
        out[k] = (expr);                                                                      \
    return 0;

static int cbce_math_eval(int which, ptrdiff_t n, const double *x, double *out)
{
    switch (which) {
    case CBCE_MATH_EXP_NONPOS: CBCE_MATH_LOOP(cbce_exp_nonpos(x[k]))
    case CBCE_MATH_LOG: CBCE_MATH_LOOP(cbce_log(x[k]))
    case CBCE_MATH_LOG1P: CBCE_MATH_LOOP(cbce_log1p(x[k]))
    case CBCE_MATH_LOG1P_01: CBCE_MATH_LOOP(cbce_log1p_01(x[k]))
    case CBCE_MATH_RECIP12: CBCE_MATH_LOOP(cbce_recip12(x[k]))
    case CBCE_MATH_EXP_NONPOS_F: CBCE_MATH_LOOP(cbce_exp_nonpos_f((float)x[k]))
    case CBCE_MATH_LOG1P_01_F: CBCE_MATH_LOOP(cbce_log1p_01_f((float)x[k]))
    case CBCE_MATH_RECIP12_F: CBCE_MATH_LOOP(cbce_recip12_f((float)x[k]))
    case CBCE_MATH_LOG_F: CBCE_MATH_LOOP(cbce_log_f((float)x[k]))
    case CBCE_MATH_LOG1P_F: CBCE_MATH_LOOP(cbce_log1p_f((float)x[k]))
    }
    return -1;
}

/* Out of line here (it is inline in softmax.h's column loop): the row path calls it once per
   row, through the table. */
static double cbce_sm_log1p_pos_row(double s)
{
    return cbce_sm_log1p_pos(s);
}

CBCE_LOOPS_HIDDEN extern const cbce_loop_table CBCE_PASTE(cbce_loops_, CBCE_TARGET);

const cbce_loop_table CBCE_PASTE(cbce_loops_, CBCE_TARGET) = {
    .name = CBCE_STR(CBCE_TARGET),
    .logit_loss_f64 = cbce_logit_loss_f64,
    .logit_grad_f64 = cbce_logit_grad_f64,
    .logit_loss_grad_f64 = cbce_logit_loss_grad_f64,
    .logit_grad_hess_f64 = cbce_logit_grad_hess_f64,
    .logit_grad_hess_f32d = cbce_logit_grad_hess_f32d,
    .logit_loss_f32 = cbce_logit_loss_f32,
    .logit_grad_f32 = cbce_logit_grad_f32,
    .logit_loss_grad_f32 = cbce_logit_loss_grad_f32,
    .prob_loss_f64 = cbce_prob_loss_f64,
    .prob_grad_f64 = cbce_prob_grad_f64,
    .prob_loss_grad_f64 = cbce_prob_loss_grad_f64,
    .prob_loss_f32 = cbce_prob_loss_f32,
    .prob_grad_f32 = cbce_prob_grad_f32,
    .prob_loss_grad_f32 = cbce_prob_loss_grad_f32,
    .check_f64 = cbce_check_f64,
    .check_f32 = cbce_check_f32,
    .focal_logit_loss_f64 = cbce_focal_logit_loss_f64,
    .focal_logit_grad_f64 = cbce_focal_logit_grad_f64,
    .focal_logit_loss_grad_f64 = cbce_focal_logit_loss_grad_f64,
    .focal_logit_grad_hess_f64 = cbce_focal_logit_grad_hess_f64,
    .focal_prob_loss_f64 = cbce_focal_prob_loss_f64,
    .focal_prob_grad_f64 = cbce_focal_prob_grad_f64,
    .focal_prob_loss_grad_f64 = cbce_focal_prob_loss_grad_f64,
    .focal_logit_loss_f32 = cbce_focal_logit_loss_f32,
    .focal_logit_grad_f32 = cbce_focal_logit_grad_f32,
    .focal_logit_loss_grad_f32 = cbce_focal_logit_loss_grad_f32,
    .focal_logit_grad_hess_f32 = cbce_focal_logit_grad_hess_f32,
    .focal_prob_loss_f32 = cbce_focal_prob_loss_f32,
    .focal_prob_grad_f32 = cbce_focal_prob_grad_f32,
    .focal_prob_loss_grad_f32 = cbce_focal_prob_loss_grad_f32,
    .sm_row_max = cbce_sm_row_max,
    .sm_row_exp = cbce_sm_row_exp,
    .sm_row_targets = cbce_sm_row_targets,
    .sm_row_smooth = cbce_sm_row_smooth,
    .sm_row_grad = cbce_sm_row_grad,
    .sm_log1p_pos = cbce_sm_log1p_pos_row,
    .sm_cols_max = cbce_sm_cols_max,
    .sm_cols_exp = cbce_sm_cols_exp,
    .sm_cols_targets = cbce_sm_cols_targets,
    .sm_cols_smooth = cbce_sm_cols_smooth,
    .sm_cols_loss = cbce_sm_cols_loss,
    .sm_cols_grad = cbce_sm_cols_grad,
    .math_eval = cbce_math_eval,
};
