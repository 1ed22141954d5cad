/* loops/softmax.h -- the element loops of softmax cross-entropy (src/_multiclass_impl.pxi runs
 * blocks of samples, gathers rows, handles targets and sums; these loops do the math of Note I
 * over contiguous doubles).
 *
 * In C for `#pragma omp simd`, as the BCE loops (loop_common.h): vectorized on the compiler's
 * word, not its heuristics. No loop here reduces in floating point (the sums are pairwise_sum's,
 * in a fixed order, over the tiles these loops fill); the max is exact in any order and the tie
 * count is an integer.
 *
 * Row functions (one sample, its C classes contiguous) and column functions (Note M: a chunk of
 * R samples transposed, class-major, lanes are samples; the per-sample sums run over the
 * classes in class order).
 */
#ifndef CBCE_SOFTMAX_H
#define CBCE_SOFTMAX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cbce_math.h"

/* max x[0:n]; NaN may or may not win, exp(x - m) carries it either way (Note L). */
static double cbce_sm_row_max(ptrdiff_t n, const double *X)
{
    double m = -INFINITY;
    _Pragma("omp simd reduction(max:m)")
    for (ptrdiff_t c = 0; c < n; c++)
        m = X[c] > m ? X[c] : m;
    return m;
}

/* The maxima counted in a double on x86-64 without SSE4.1 (exact: whole numbers < 2^53): an
   integer count takes the 64-bit compare mask narrowed, which SSE2 cannot do in vector
   (loops/loop_common.h, the range flag), and the loop would stay scalar. */
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__SSE4_1__)
#define CBCE_SM_COUNT_T double
#else
#define CBCE_SM_COUNT_T long long
#endif

/* E = exp(x - m); Et = E but 0 at the maxima. Returns the number of maxima. */
static long long cbce_sm_row_exp(ptrdiff_t n, const double *X, double m, double *E, double *Et)
{
    CBCE_SM_COUNT_T ties = 0;
    _Pragma("omp simd reduction(+:ties)")
    for (ptrdiff_t c = 0; c < n; c++) {
        double e = cbce_exp_nonpos(X[c] - m);          /* <= 0; -inf gives 0, NaN stays */
        int top = X[c] == m;
        E[c] = e;
        Et[c] = top ? 0.0 : e;
        ties += top ? (CBCE_SM_COUNT_T)1 : 0;
    }
    return (long long)ties;
}

/* Probability targets: A = cw*(y*keep + add), L = A*(m - x) (0 where A = 0: a -inf logit). */
static void cbce_sm_row_targets(ptrdiff_t n, const double *X, const double *Y, const double *cw,
                                double m, double keep, double add, double *A, double *L)
{
    _Pragma("omp simd")
    for (ptrdiff_t c = 0; c < n; c++) {
        double a = cw[c] * (Y[c] * keep + add);
        double l = a * (m - X[c]);
        A[c] = a;
        L[c] = a == 0.0 ? 0.0 : l;
    }
}

/* Class indices with label smoothing: L = cw*add*(m - x), the ls/C part of every class. */
static void cbce_sm_row_smooth(ptrdiff_t n, const double *X, const double *cw, double m,
                               double add, double *L)
{
    _Pragma("omp simd")
    for (ptrdiff_t c = 0; c < n; c++) {
        double a = cw[c] * add;
        double l = a * (m - X[c]);
        L[c] = a == 0.0 ? 0.0 : l;
    }
}

/* G = gs*(W*e/S - a), and ((W - a) - a*S')/S at the maxima (Note I); S = 1 + S'. A is the
   target weights, or NULL for class index t (a = cw*(add + keep*[c == t])). */
static void cbce_sm_row_grad(ptrdiff_t n, const double *X, const double *E, const double *A,
                             const double *cw, int64_t t, double keep, double add, double m,
                             double W, double Sp, double gs, double *G)
{
    double inv = 1.0 / (1.0 + Sp);
    if (A != NULL) {
        _Pragma("omp simd")
        for (ptrdiff_t c = 0; c < n; c++) {
            double a = A[c];
            double top = ((W - a) - a * Sp) * inv, rest = W * E[c] * inv - a;
            G[c] = gs * (X[c] == m ? top : rest);
        }
    } else {
        _Pragma("omp simd")
        for (ptrdiff_t c = 0; c < n; c++) {
            double a = cw[c] * (add + (c == t ? keep : 0.0));
            double top = ((W - a) - a * Sp) * inv, rest = W * E[c] * inv - a;
            G[c] = gs * (X[c] == m ? top : rest);
        }
    }
}

/* log S = log1p(S') for S' >= 0 (S' up to C - 1); NaN propagates. One log: log(u) + c/u with
   u = 1 + S' rounded and c = S' - (u - 1) its rounding error, exact for S' >= 0 (u - 1 is exact
   for u >= 1, and the error of a sum is representable): cbce_log1p's method, with 1/u a divide
   that the loops share with their 1/S. Taking log1p_01 below S' = 1 and log(u) above computed
   both per lane (a select): 2x the time on 2-lane SSE2 (benchmarks/element_loops.sh). */
static CBCE_INLINE double cbce_sm_log1p_pos(double s)
{
    double u = 1.0 + s;
    double c = s - (u - 1.0);
    return cbce_log_normal(u) + c * (1.0 / u);
}

/* ---- columns (Note M): XT etc. are C x R, class-major; nr <= R lanes in use ---------------- */

static void cbce_sm_cols_max(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT, double *M)
{
    _Pragma("omp simd")
    for (ptrdiff_t i = 0; i < nr; i++)
        M[i] = -INFINITY;
    for (ptrdiff_t c = 0; c < C; c++) {
        const double *x = XT + c * R;
        _Pragma("omp simd")
        for (ptrdiff_t i = 0; i < nr; i++)
            M[i] = x[i] > M[i] ? x[i] : M[i];
    }
}

/* ET = exp(x - m); SP = sum of e off the maxima; TI = number of maxima (class order). */
static void cbce_sm_cols_exp(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                             const double *M, double *ET, double *SP, double *TI)
{
    _Pragma("omp simd")
    for (ptrdiff_t i = 0; i < nr; i++) {
        SP[i] = 0.0;
        TI[i] = 0.0;
    }
    for (ptrdiff_t c = 0; c < C; c++) {
        const double *x = XT + c * R;
        double *et = ET + c * R;
        _Pragma("omp simd")
        for (ptrdiff_t i = 0; i < nr; i++) {
            double e = cbce_exp_nonpos(x[i] - M[i]);
            int top = x[i] == M[i];
            et[i] = e;
            SP[i] = SP[i] + (top ? 0.0 : e);
            TI[i] = TI[i] + (top ? 1.0 : 0.0);
        }
    }
}

/* Probability targets: AT = cw*(y*keep + add) in place of y; WW = sum a, LT = sum a*(m - x). */
static void cbce_sm_cols_targets(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                                 const double *M, const double *cw, double keep, double add,
                                 double *AT, double *WW, double *LT)
{
    _Pragma("omp simd")
    for (ptrdiff_t i = 0; i < nr; i++) {
        WW[i] = 0.0;
        LT[i] = 0.0;
    }
    for (ptrdiff_t c = 0; c < C; c++) {
        const double *x = XT + c * R;
        double *at = AT + c * R;
        _Pragma("omp simd")
        for (ptrdiff_t i = 0; i < nr; i++) {
            double a = cw[c] * (at[i] * keep + add);
            double l = a * (M[i] - x[i]);
            at[i] = a;
            WW[i] = WW[i] + a;
            LT[i] = LT[i] + (a == 0.0 ? 0.0 : l);
        }
    }
}

/* Class indices with label smoothing: LT += cw*add*(m - x), class by class. */
static void cbce_sm_cols_smooth(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                                const double *M, const double *cw, double add, double *LT)
{
    for (ptrdiff_t c = 0; c < C; c++) {
        const double *x = XT + c * R;
        double a = cw[c] * add;
        if (a == 0.0)
            continue;
        _Pragma("omp simd")
        for (ptrdiff_t i = 0; i < nr; i++)
            LT[i] = LT[i] + a * (M[i] - x[i]);
    }
}

/* Per sample: S' into SP, 1/S into TI, the weighted loss into buf (0 if not kept, KP = 0) and
   the gradient factor SW*scale into SW. */
static void cbce_sm_cols_loss(ptrdiff_t nr, const double *M, const double *WW, const double *LT,
                              const double *KP, double scale, double *SP, double *TI, double *SW,
                              double *buf)
{
    _Pragma("omp simd")
    for (ptrdiff_t i = 0; i < nr; i++) {
        double sp = SP[i] + (TI[i] - 1.0) + (M[i] - M[i]);   /* (m - m): NaN for m = +inf */
        double v = WW[i] * cbce_sm_log1p_pos(sp) + LT[i];
        double lw = SW[i] * v;
        buf[i] = KP[i] != 0.0 ? lw : 0.0;
        SP[i] = sp;
        TI[i] = 1.0 / (1.0 + sp);
        SW[i] = SW[i] * scale;
    }
}

/* The gradient into ET (in place of e): AT the target weights, or NULL for class indices T. */
static void cbce_sm_cols_grad(ptrdiff_t C, ptrdiff_t R, ptrdiff_t nr, const double *XT,
                              const double *M, const double *AT, const int64_t *T,
                              const double *cw, double keep, double add, const double *WW,
                              const double *SP, const double *TI, const double *SW,
                              const double *KP, double *ET)
{
    for (ptrdiff_t c = 0; c < C; c++) {
        const double *x = XT + c * R;
        double *et = ET + c * R;
        if (AT != NULL) {
            const double *at = AT + c * R;
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < nr; i++) {
                double a = at[i];
                double top = ((WW[i] - a) - a * SP[i]) * TI[i], rest = WW[i] * et[i] * TI[i] - a;
                double g = SW[i] * (x[i] == M[i] ? top : rest);
                et[i] = KP[i] != 0.0 ? g : 0.0;
            }
        } else {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < nr; i++) {
                double a = cw[c] * (add + (T[i] == c ? keep : 0.0));
                double top = ((WW[i] - a) - a * SP[i]) * TI[i], rest = WW[i] * et[i] * TI[i] - a;
                double g = SW[i] * (x[i] == M[i] ? top : rest);
                et[i] = KP[i] != 0.0 ? g : 0.0;
            }
        }
    }
}

#endif /* CBCE_SOFTMAX_H */
