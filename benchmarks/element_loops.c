/* element_loops.c -- ns per element of every element loop (src/loops/: BCE, focal, softmax)
 * on one block (2048 elements) in cache: the math alone, without memory traffic, threads or
 * Python.
 *
 *   sh benchmarks/element_loops.sh avx2       # one target: baseline, sse42, avx2, avx512
 *   sh benchmarks/element_loops.sh all        # every target this CPU runs, one after another
 *
 * Each figure is the fastest of TRIALS timings of REPS passes, in the thread's own CPU time
 * (CLOCK_THREAD_CPUTIME_ID): on a shared machine, time spent descheduled does not count, and the
 * minimum is the least disturbed by the rest (caches, a busy sibling hyperthread). The figures quoted in cbce_math.h's notes
 * come from this program. Arguments are read through volatiles so that the compiler cannot
 * specialise the loops on constants (a constant-propagated build can vectorise differently from
 * the library's).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loops/bce_loops.h"
#include "loops/softmax.h"

#define N 2048
#define REPS 200
#define TRIALS 30
#define SM_C 8                      /* softmax classes: N = SM_R samples x SM_C classes */
#define SM_R (N / SM_C)

static double X[N], Y[N], YS[N], W[N], P[N], PR[N], BUF[N], G[N], H[N], E[N], E2[N];
static double M[N], SP[N], TI[N], WW[N], LT[N], SW[N], KP[N];
static float XF[N], YF[N], WF[N], PF[N], PRF[N], GF[N], HF[N];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void)
{
    volatile double one = 1.0, zero = 0.0, floor_ = 1e-12, sc = 1e-7, gam = 2.0, alpha = 0.25;
    volatile float onef = 1.0f, zerof = 0.0f, scf = 1e-7f;
    volatile int uni_v = 1;
    int uni = uni_v, bad = 0;
    srand(1);
    for (int i = 0; i < N; i++) {                  /* logits ~ N(0, 3), 1/3 positive labels */
        double u = (rand() + 0.5) / RAND_MAX, v = (rand() + 0.5) / RAND_MAX;
        X[i] = 3.0 * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
        Y[i] = rand() % 3 == 0;
        YS[i] = (rand() + 0.5) / RAND_MAX;                 /* soft labels: both logs */
        W[i] = P[i] = 1.0;
        PR[i] = 1.0 / (1.0 + exp(-X[i]));
        XF[i] = (float)X[i], YF[i] = (float)Y[i], WF[i] = PF[i] = 1.0f, PRF[i] = (float)PR[i];
    }
    for (int i = 0; i < N; i++)          /* cols loss runs in place: SP = 0, TI = 1 is fixed */
        M[i] = 9.0, SP[i] = 0.0, TI[i] = 1.0, WW[i] = 1.0, LT[i] = 0.5, SW[i] = 1.0, KP[i] = 1.0;
    double t, best;
#define TIME(name, call)                                                                      \
    best = 1e30;                                                                              \
    for (int trial = 0; trial < TRIALS; trial++) {                                            \
        t = now();                                                                            \
        for (int r = 0; r < REPS; r++) {                                                      \
            bad |= call;                                                                      \
            __asm__ volatile("" : : "r"(BUF), "r"(G), "r"(GF), "r"(E) : "memory");            \
        }                                                                                     \
        t = now() - t;                                                                        \
        best = t < best ? t : best;                                                           \
    }                                                                                         \
    printf("%-32s %6.3f ns/elem\n", name, best / REPS / N * 1e9);
    TIME("logit loss f64", cbce_logit_loss_f64(N, uni, X, Y, W, P, one, zero, BUF))
    TIME("logit grad f64", cbce_logit_grad_f64(N, uni, X, Y, W, P, one, zero, sc, G))
    TIME("logit loss+grad f64", cbce_logit_loss_grad_f64(N, uni, X, Y, W, P, one, zero, sc, BUF, G))
    TIME("logit loss+grad f64 weighted",
         cbce_logit_loss_grad_f64(N, 0, X, Y, W, P, one, zero, sc, BUF, G))
    TIME("logit grad+hess f64", cbce_logit_grad_hess_f64(N, uni, X, Y, W, P, one, zero, sc, G, H))
    TIME("logit grad+hess f32d",
         cbce_logit_grad_hess_f32d(N, uni, XF, YF, WF, PF, one, zero, sc, GF, HF))
    TIME("prob loss f64", cbce_prob_loss_f64(N, uni, PR, Y, W, P, one, zero, zero, one, BUF))
    TIME("prob loss f64 soft labels",
         cbce_prob_loss_f64(N, uni, PR, YS, W, P, one, zero, zero, one, BUF))
    TIME("prob grad f64",
         cbce_prob_grad_f64(N, uni, PR, Y, W, P, one, zero, zero, one, floor_, sc, G))
    TIME("prob loss+grad f64",
         cbce_prob_loss_grad_f64(N, uni, PR, Y, W, P, one, zero, zero, one, floor_, sc, BUF, G))
    TIME("logit loss f32", cbce_logit_loss_f32(N, uni, XF, YF, WF, PF, onef, zerof, BUF))
    TIME("logit grad f32", cbce_logit_grad_f32(N, uni, XF, YF, WF, PF, onef, zerof, scf, GF))
    TIME("logit loss+grad f32",
         cbce_logit_loss_grad_f32(N, uni, XF, YF, WF, PF, onef, zerof, scf, BUF, GF))
    TIME("logit loss+grad f32 weighted",
         cbce_logit_loss_grad_f32(N, 0, XF, YF, WF, PF, onef, zerof, scf, BUF, GF))
    TIME("prob loss f32", cbce_prob_loss_f32(N, uni, PRF, YF, WF, PF, one, zero, zero, one, BUF))
    TIME("prob grad f32",
         cbce_prob_grad_f32(N, uni, PRF, YF, WF, PF, one, zero, zero, one, floor_, sc, GF))
    TIME("prob loss+grad f32",
         cbce_prob_loss_grad_f32(N, uni, PRF, YF, WF, PF, one, zero, zero, one, floor_, sc, BUF,
                                 GF))
    TIME("focal logit loss f64",
         cbce_focal_logit_loss_f64(N, X, Y, W, P, one, zero, gam, alpha, BUF))
    TIME("focal logit loss+grad f64",
         cbce_focal_logit_loss_grad_f64(N, X, Y, W, P, one, zero, gam, alpha, sc, BUF, G))
    TIME("focal logit grad+hess f64",
         cbce_focal_logit_grad_hess_f64(N, X, Y, W, P, one, zero, gam, alpha, sc, G, H))
    TIME("focal prob loss+grad f64",
         cbce_focal_prob_loss_grad_f64(N, PR, Y, W, P, one, zero, zero, one, gam, alpha, floor_,
                                       sc, BUF, G))
    TIME("focal logit loss+grad f32",
         cbce_focal_logit_loss_grad_f32(N, XF, YF, WF, PF, one, zero, gam, alpha, sc, BUF, GF))
    TIME("focal prob loss+grad f32",
         cbce_focal_prob_loss_grad_f32(N, PRF, YF, WF, PF, one, zero, zero, one, gam, alpha,
                                       floor_, sc, BUF, GF))
    TIME("softmax row exp (C=2048)", (int)cbce_sm_row_exp(N, X, 12.0, E, E2))
    TIME("softmax cols exp (8 x 256)",
         (cbce_sm_cols_exp(SM_C, SM_R, SM_R, X, M, E, SP, TI), 0))
    TIME("softmax cols loss (per sample)",
         (cbce_sm_cols_loss(N, M, WW, LT, KP, one, SP, TI, SW, BUF), 0))
    return bad & 0;
}
