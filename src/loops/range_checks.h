/* loops/range_checks.h -- the range checks alone, float64 and float32. */
#ifndef CBCE_RANGE_CHECKS_H
#define CBCE_RANGE_CHECKS_H

#include "loop_common.h"

/* The range checks alone (OP_CHECK). */
#define CBCE_CHECK(T, S)                                                                       \
static int cbce_check_##S(ptrdiff_t n, const T *X, const T *Y, int probabilities)             \
{                                                                                             \
    CBCE_FLAG_T(T) bad = 0;                                                                   \
    if (probabilities) {                                                                      \
        CBCE_SIMD_FLAG                                                                        \
        for (ptrdiff_t k = 0; k < n; k++) CBCE_FLAG(CBCE_BAD_Y(Y[k]) | CBCE_BAD_P(X[k]));     \
    } else {                                                                                  \
        CBCE_SIMD_FLAG                                                                        \
        for (ptrdiff_t k = 0; k < n; k++) CBCE_FLAG(CBCE_BAD_Y(Y[k]));                        \
    }                                                                                         \
    return bad != 0;                                                                          \
}

CBCE_CHECK(double, f64)
CBCE_CHECK(float, f32)

#endif /* CBCE_RANGE_CHECKS_H */
