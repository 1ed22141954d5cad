/* loops/loop_common.h -- what the element loops of one block share. They run over contiguous
 * inputs (src/_kernels_impl.pxi makes the inputs contiguous, runs blocks on threads and sums the
 * losses). One file per family: bce_logits_f64.h, bce_logits_f32.h, bce_probs_f64.h,
 * bce_probs_f32.h, range_checks.h, focal.h, softmax.h.
 *
 * Why in C: every loop carries `#pragma omp simd`. Without it, whether GCC vectorizes a loop
 * this long is a heuristic: GCC 12 did for every loop here, GCC 13 gave up if-converting the
 * fused loss+gradient and the probability loops (measured 10x slower). With it, the loop is
 * vectorized on the compiler's word (-fopenmp or -fopenmp-simd; where neither exists the pragma
 * is ignored and the loops stay correct). The pragma asserts what holds here: iterations are
 * independent, and outputs never alias inputs (an input that is also an output is copied to a
 * tile first), so reordering within a block changes nothing.
 *
 * One function per (operation, input kind, type); `bad` flags the range checks of the block
 * (y_true outside [0, 1] or NaN; for probabilities y_pred too), branch-free. Losses go to `buf`
 * (doubles, weighted, unscaled); gradients and hessians are weighted and scaled by `sc`.
 *
 * The flag is a 0/1 max reduction. On x86-64 without SSE4.1 (the baseline) it is kept in the
 * input's floating type, elsewhere in an int. An int takes each float64 compare mask narrowed
 * from 64 to 32 bits, which SSE2 has no vector instruction for: GCC then leaves every float64 loop
 * of the baseline scalar (-fopt-info-vec-missed: "relevant stmt not supported: patt = _76 ? 1 :
 * 0"). Where the narrowing exists the int is kept: it makes GCC run two float64 vectors per
 * iteration (one int vector's worth), which the AVX2 loops measured faster than one.
 */
#ifndef CBCE_LOOP_COMMON_H
#define CBCE_LOOP_COMMON_H

#include <stddef.h>

#include "cbce_elementwise.h"

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__SSE4_1__)
#define CBCE_FLAG_T(T) T
#else
#define CBCE_FLAG_T(T) int
#endif
#define CBCE_SIMD_FLAG _Pragma("omp simd reduction(max:bad)")
/* bad = 1 where c holds; lanes start at max's identity and the reduction folds them into 0. */
#define CBCE_FLAG(c) (bad = (c) ? 1 : bad)
/* Outside [0, 1] or NaN: !(v >= 0) is true for NaN (one unordered comparison). */
#define CBCE_BAD_Y(v) (!((v) >= 0) | ((v) > 1))
#define CBCE_BAD_P(v) (!((v) >= 0) | ((v) > 1))

/* x clipped to [lo, hi] as one max and one min instruction (x86's maxpd/minpd are exactly
   a > b ? a : b). A NaN x becomes lo; it is already flagged by CBCE_BAD_P, so its value is
   never returned. */
static CBCE_INLINE double cbce_clip(double x, double lo, double hi)
{
    x = x > lo ? x : lo;
    return x < hi ? x : hi;
}
static CBCE_INLINE float cbce_clip_f(float x, float lo, float hi)
{
    x = x > lo ? x : lo;
    return x < hi ? x : hi;
}

/* The element loop of one function, twice: with per-element weights (W[k], P[k]) and, when
   `uni` is set, with one sample weight and one pos_weight for the whole block (no weights
   given, or scalars): then the caller fills no tiles and the loop loads two streams fewer. The
   body reads its weights as wk_ and pk_. */
#define CBCE_FOR_WP(T, ...)                                                                    \
    if (uni) {                                                                                \
        const T wk_ = W[0], pk_ = P[0];                                                       \
        CBCE_SIMD_FLAG                                                                        \
        for (ptrdiff_t k = 0; k < n; k++) { __VA_ARGS__ }                                     \
    } else {                                                                                  \
        CBCE_SIMD_FLAG                                                                        \
        for (ptrdiff_t k = 0; k < n; k++) { const T wk_ = W[k], pk_ = P[k]; __VA_ARGS__ }     \
    }

#endif /* CBCE_LOOP_COMMON_H */
