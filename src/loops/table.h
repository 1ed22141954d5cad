/* loops/table.h -- the loop table: every element loop of one CPU target, as function pointers.
 *
 * src/loops/table.c includes the loop sources of this folder and is compiled once per CPU target
 * (setup.py, TARGETS: its -march flags), each object exporting one `cbce_loops_<target>`. The
 * core module (src/_kernels.pyx) is compiled once, without -march; at import it picks one table
 * (src/cpu_dispatch.h lists the tables built, cbce/_dispatch.py chooses) and calls the loops
 * through it, once per block of up to 2048 elements (softmax: once per row or per chunk of
 * rows), never per element. This is NumPy's pattern (numpy/_core/src/umath/loops_*.dispatch.c.src
 * with its dispatch tables): only the code that needs a target's instructions is built per target.
 *
 * Signatures are those of the loops (loops/bce_*.h, focal.h, range_checks.h, softmax.h); the
 * table is private to the extension (hidden symbols), so its layout may change freely: the public
 * C API (cbce/include/cbce.h) does not expose it.
 */
#ifndef CBCE_LOOP_TABLE_H
#define CBCE_LOOP_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* The helpers of cbce_math.h that tests/test_math.py checks on every target (math_eval). */
enum {
    CBCE_MATH_EXP_NONPOS = 0, CBCE_MATH_LOG, CBCE_MATH_LOG1P, CBCE_MATH_LOG1P_01,
    CBCE_MATH_RECIP12, CBCE_MATH_EXP_NONPOS_F, CBCE_MATH_LOG1P_01_F, CBCE_MATH_RECIP12_F,
    CBCE_MATH_LOG_F, CBCE_MATH_LOG1P_F, CBCE_MATH_COUNT
};

typedef struct cbce_loop_table {
    const char *name;                    /* the target: "baseline", "sse42", "avx2", "avx512" */

    /* BCE from logits (loops/bce_logits_f64.h, bce_logits_f32.h) */
    int (*logit_loss_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                          const double *W, const double *P, double keep, double add,
                          double *buf);
    int (*logit_grad_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                          const double *W, const double *P, double keep, double add, double sc,
                          double *g);
    int (*logit_loss_grad_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                               const double *W, const double *P, double keep, double add,
                               double sc, double *buf, double *g);
    int (*logit_grad_hess_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                               const double *W, const double *P, double keep, double add,
                               double sc, double *g, double *h);
    int (*logit_grad_hess_f32d)(ptrdiff_t n, int uni, const float *X, const float *Y,
                                const float *W, const float *P, double keep, double add,
                                double sc, float *g, float *h);
    int (*logit_loss_f32)(ptrdiff_t n, int uni, const float *X, const float *Y, const float *W,
                          const float *P, float keep, float add, double *buf);
    int (*logit_grad_f32)(ptrdiff_t n, int uni, const float *X, const float *Y, const float *W,
                          const float *P, float keep, float add, float sc, float *g);
    int (*logit_loss_grad_f32)(ptrdiff_t n, int uni, const float *X, const float *Y,
                               const float *W, const float *P, float keep, float add, float sc,
                               double *buf, float *g);

    /* BCE from probabilities (loops/bce_probs_f64.h, bce_probs_f32.h) */
    int (*prob_loss_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                         const double *W, const double *P, double keep, double add, double lo,
                         double hi, double *buf);
    int (*prob_grad_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                         const double *W, const double *P, double keep, double add, double lo,
                         double hi, double fl, double sc, double *g);
    int (*prob_loss_grad_f64)(ptrdiff_t n, int uni, const double *X, const double *Y,
                              const double *W, const double *P, double keep, double add,
                              double lo, double hi, double fl, double sc, double *buf,
                              double *g);
    int (*prob_loss_f32)(ptrdiff_t n, int uni, const float *X, const float *Y, const float *W,
                         const float *P, double keep, double add, double lo, double hi,
                         double *buf);
    int (*prob_grad_f32)(ptrdiff_t n, int uni, const float *X, const float *Y, const float *W,
                         const float *P, double keep, double add, double lo, double hi,
                         double fl, double sc, float *g);
    int (*prob_loss_grad_f32)(ptrdiff_t n, int uni, const float *X, const float *Y,
                              const float *W, const float *P, double keep, double add,
                              double lo, double hi, double fl, double sc, double *buf, float *g);

    /* The range checks alone (loops/range_checks.h) */
    int (*check_f64)(ptrdiff_t n, const double *X, const double *Y, int probabilities);
    int (*check_f32)(ptrdiff_t n, const float *X, const float *Y, int probabilities);

    /* Focal BCE (loops/focal.h): g is gamma, al alpha (< 0: None) */
    int (*focal_logit_loss_f64)(ptrdiff_t n, const double *X, const double *Y, const double *W,
                                const double *P, double keep, double add, double g, double al,
                                double *buf);
    int (*focal_logit_grad_f64)(ptrdiff_t n, const double *X, const double *Y, const double *W,
                                const double *P, double keep, double add, double g, double al,
                                double sc, double *gr);
    int (*focal_logit_loss_grad_f64)(ptrdiff_t n, const double *X, const double *Y,
                                     const double *W, const double *P, double keep, double add,
                                     double g, double al, double sc, double *buf, double *gr);
    int (*focal_logit_grad_hess_f64)(ptrdiff_t n, const double *X, const double *Y,
                                     const double *W, const double *P, double keep, double add,
                                     double g, double al, double sc, double *gr, double *h);
    int (*focal_prob_loss_f64)(ptrdiff_t n, const double *X, const double *Y, const double *W,
                               const double *P, double keep, double add, double lo, double hi,
                               double g, double al, double *buf);
    int (*focal_prob_grad_f64)(ptrdiff_t n, const double *X, const double *Y, const double *W,
                               const double *P, double keep, double add, double lo, double hi,
                               double g, double al, double fl, double sc, double *gr);
    int (*focal_prob_loss_grad_f64)(ptrdiff_t n, const double *X, const double *Y,
                                    const double *W, const double *P, double keep, double add,
                                    double lo, double hi, double g, double al, double fl,
                                    double sc, double *buf, double *gr);
    int (*focal_logit_loss_f32)(ptrdiff_t n, const float *X, const float *Y, const float *W,
                                const float *P, double keep, double add, double g, double al,
                                double *buf);
    int (*focal_logit_grad_f32)(ptrdiff_t n, const float *X, const float *Y, const float *W,
                                const float *P, double keep, double add, double g, double al,
                                double sc, float *gr);
    int (*focal_logit_loss_grad_f32)(ptrdiff_t n, const float *X, const float *Y,
                                     const float *W, const float *P, double keep, double add,
                                     double g, double al, double sc, double *buf, float *gr);
    int (*focal_logit_grad_hess_f32)(ptrdiff_t n, const float *X, const float *Y,
                                     const float *W, const float *P, double keep, double add,
                                     double g, double al, double sc, float *gr, float *h);
    int (*focal_prob_loss_f32)(ptrdiff_t n, const float *X, const float *Y, const float *W,
                               const float *P, double keep, double add, double lo, double hi,
                               double g, double al, double *buf);
    int (*focal_prob_grad_f32)(ptrdiff_t n, const float *X, const float *Y, const float *W,
                               const float *P, double keep, double add, double lo, double hi,
                               double g, double al, double fl, double sc, float *gr);
    int (*focal_prob_loss_grad_f32)(ptrdiff_t n, const float *X, const float *Y,
                                    const float *W, const float *P, double keep, double add,
                                    double lo, double hi, double g, double al, double fl,
                                    double sc, double *buf, float *gr);

    /* Softmax cross-entropy (loops/softmax.h): rows, and columns of transposed chunks */
    double (*sm_row_max)(ptrdiff_t n, const double *X);
    long long (*sm_row_exp)(ptrdiff_t n, const double *X, double m, double *E, double *Et);
    void (*sm_row_targets)(ptrdiff_t n, const double *X, const double *Y, const double *cw,
                           double m, double keep, double add, double *A, double *L);
    void (*sm_row_smooth)(ptrdiff_t n, const double *X, const double *cw, double m, double add,
                          double *L);
    void (*sm_row_grad)(ptrdiff_t n, const double *X, const double *E, const double *A,
                        const double *cw, int64_t t, double keep, double add, double m,
                        double W, double Sp, double gs, double *G);
    double (*sm_log1p_pos)(double s);
    void (*sm_cols_max)(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT, double *M);
    void (*sm_cols_exp)(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                        const double *M, double *ET, double *SP, double *TI);
    void (*sm_cols_targets)(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                            const double *M, const double *cw, double keep, double add,
                            double *AT, double *WW, double *LT);
    void (*sm_cols_smooth)(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                           const double *M, const double *cw, double add, double *LT);
    void (*sm_cols_loss)(ptrdiff_t nr, const double *M, const double *WW, const double *LT,
                         const double *KP, double scale, double *SP, double *TI, double *SW,
                         double *buf);
    void (*sm_cols_grad)(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                         const double *M, const double *AT, const int64_t *T, const double *cw,
                         double keep, double add, const double *WW, const double *SP,
                         const double *TI, const double *SW, const double *KP, double *ET);

    /* out[k] = helper(x[k]) for one cbce_math.h helper (CBCE_MATH_*; the float32 ones on x
       rounded to float32), in a loop compiled like the element loops. -1: unknown helper. */
    int (*math_eval)(int which, ptrdiff_t n, const double *x, double *out);
} cbce_loop_table;

/* Private to the extension module: no symbol of the tables leaves the shared object. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)
#define CBCE_LOOPS_HIDDEN __attribute__((visibility("hidden")))
#else
#define CBCE_LOOPS_HIDDEN
#endif

#endif /* CBCE_LOOP_TABLE_H */
