/* element_loops.c -- ns per element of each element loop of src/loops/, on one block
 * (2048 elements) in cache: the math alone, without memory traffic, threads or Python.
 *
 *   sh benchmarks/element_loops.sh            # AVX-512 build (the default flags of setup.py)
 *   sh benchmarks/element_loops.sh avx2       # x86-64-v3; "baseline" for the libm build
 *
 * The figures quoted in cbce_math.h's notes ("Divides", log1p_01) come from this program.
 * Arguments are read through volatiles so that the compiler cannot specialise the loops on
 * constants (a constant-propagated build can vectorise differently from the library's).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loops/bce_loops.h"

#define N 2048

static double X[N], Y[N], W[N], P[N], PR[N], BUF[N], G[N], H[N];
static float XF[N], YF[N], WF[N], PF[N], PRF[N], GF[N];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void)
{
    volatile double one = 1.0, zero = 0.0, floor_ = 1e-12, sc = 1e-7;
    volatile float onef = 1.0f, zerof = 0.0f, scf = 1e-7f;
    volatile int uni_v = 1;
    int uni = uni_v, bad = 0, reps = 20000;
    srand(1);
    for (int i = 0; i < N; i++) {                  /* logits ~ N(0, 3), 1/3 positive labels */
        double u = (rand() + 0.5) / RAND_MAX, v = (rand() + 0.5) / RAND_MAX;
        X[i] = 3.0 * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
        Y[i] = rand() % 3 == 0;
        W[i] = P[i] = 1.0;
        PR[i] = 1.0 / (1.0 + exp(-X[i]));
        XF[i] = (float)X[i], YF[i] = (float)Y[i], WF[i] = PF[i] = 1.0f, PRF[i] = (float)PR[i];
    }
    double t;
#define TIME(name, call)                                                                      \
    t = now();                                                                                \
    for (int r = 0; r < reps; r++) {                                                          \
        bad |= call;                                                                          \
        __asm__ volatile("" : : "r"(BUF), "r"(G), "r"(GF) : "memory");                        \
    }                                                                                         \
    printf("%-32s %6.3f ns/elem\n", name, (now() - t) / reps / N * 1e9);
    TIME("logit loss f64", cbce_logit_loss_f64(N, uni, X, Y, W, P, one, zero, BUF))
    TIME("logit grad f64", cbce_logit_grad_f64(N, uni, X, Y, W, P, one, zero, sc, G))
    TIME("logit loss+grad f64", cbce_logit_loss_grad_f64(N, uni, X, Y, W, P, one, zero, sc, BUF, G))
    TIME("logit grad+hess f64", cbce_logit_grad_hess_f64(N, uni, X, Y, W, P, one, zero, sc, G, H))
    TIME("prob loss f64", cbce_prob_loss_f64(N, uni, PR, Y, W, P, one, zero, zero, one, BUF))
    TIME("prob loss+grad f64",
         cbce_prob_loss_grad_f64(N, uni, PR, Y, W, P, one, zero, zero, one, floor_, sc, BUF, G))
    TIME("logit loss f32", cbce_logit_loss_f32(N, uni, XF, YF, WF, PF, onef, zerof, BUF))
    TIME("logit loss+grad f32",
         cbce_logit_loss_grad_f32(N, uni, XF, YF, WF, PF, onef, zerof, scf, BUF, GF))
    TIME("prob loss+grad f32",
         cbce_prob_loss_grad_f32(N, uni, PRF, YF, WF, PF, one, zero, zero, one, floor_, sc, BUF, GF))
    return bad;
}
