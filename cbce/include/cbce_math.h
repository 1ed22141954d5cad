/* cbce_math.h -- branch-free exp / log / log1p / reciprocal for cbce's element loops.
 *
 * Why: libm's exp and log1p are scalar calls (12.5 ns per element for log1p(exp(-|x|)) here),
 * and keep every loop that uses them ~10x under the memory roofline. These functions are written
 * so that GCC vectorizes the loops that inline them on every target (below):
 * straight-line arithmetic, integer operations on the IEEE-754 bits, tails handled by selects, no
 * calls, no table lookups (a gather kept GCC from vectorizing some loops, and cost 2 ns per
 * element where this polynomial costs under 1). No -ffast-math is needed or wanted: NaN
 * propagates through every function.
 *
 * Divides. The two quotients (1/(1+e) and log's f/(2+f)) are vector divides, not Newton
 * iterations: a divide is 3 micro-ops on the FMA ports and then runs in the divider alongside
 * the rest of the loop, while four Newton steps are 9 multiply-adds on those same ports, which
 * is what bounds these loops. Measured in the element loops (2048 doubles in cache, 2026-11-28,
 * AVX-512): fused loss+gradient 3.19 -> 2.84 ns per element, loss 2.69 -> 2.39; AVX2 build
 * 5.98 -> 5.33. (A divide-only loop is slower than a Newton-only one, 0.68 against 0.24 ns, which
 * is what an earlier version measured and why it iterated.) Divides are also correctly rounded.
 *
 * Every target uses these functions; no element loop calls libm. What holds per target (GCC 12;
 * tools/check_aarch64.sh checks aarch64, benchmarks/element_loops.sh measures x86):
 *   x86-64 baseline (SSE2, no FMA): every loop vectorized, 2 doubles or 4 floats per vector.
 *     SSE2 has no 64-bit integer compare and no int64 <-> double conversion; nothing here needs
 *     them (the shifter below converts, masks come from FP compares), and the loops keep their
 *     range flag in the lanes' width (src/loops/loop_common.h).
 *   x86-64-v2 (SSE4.2), AVX2 (x86-64-v3, FMA), AVX-512 (x86-64-v4, FMA): every loop vectorized.
 *   Measured against libm (benchmarks/element_loops.sh, AMD EPYC Zen 3, 2026-12-02, ns per
 *   element, libm -> own): baseline fused logits float64 20.3 -> 17.2, float32 17.1 -> 5.8;
 *   sse42 float64 17.2 -> 15.4, float32 17.1 -> 4.7 (its float64 loops 10-30% faster than the
 *   baseline's). Probability loss float64 (hard labels take one log,
 *   src/loops/bce_probs_f64.h), libm -> own, same run: baseline 15.7 -> 9.7 (soft labels, two
 *   logs: 15.2), sse42 15.9 -> 8.4 (14.0); gradient 1.17 -> 0.97. Softmax's per-sample
 *   log1p(S'): baseline 6.9 -> 7.1, sse42 6.4 -> 6.4 (measured at S' = 0, where libm's
 *   log1p may take a shortcut that the branch-free loop does not).
 *   aarch64 armv8-a (Advanced SIMD, FMA): every loop vectorized, no calls.
 * The bounds below hold with and without FMA: tests/test_math.py checks them on each x86 target
 * the CPU runs (the baseline has no FMA; AVX2 contracts multiply-adds), tools/check_aarch64.sh
 * the loops built on them on aarch64. Two targets may differ in the last bits of a result where
 * one contracts a multiply-add that the other rounds twice; without FMA (-ffp-contract=off
 * -DCBCE_FMA=0) aarch64 reproduces the x86-64 baseline bit for bit (check_aarch64.sh).
 *
 * Accuracy (checked against mpmath over dense grids in tests/test_math.py):
 *   cbce_exp_nonpos  <= 1 ulp on [-746, 0], subnormal results included
 *   cbce_log         <= 1 ulp on [0, 2^1023], subnormal arguments included; log(0) = -inf
 *   cbce_log1p       <= 1.5 ulp on [-1, 1]; cbce_log1p_01 the same on [0, 1], cheaper
 *   cbce_recip12     <= 0.5 ulp on [1, 2] (a divide)
 *
 * Methods and constants
 *  exp: k = round(x/ln2) by the 1.5*2^52 shifter (SSE2 and AVX2 have no int64<->double conversion),
 *    Cody-Waite r = x - k*ln2 with fdlibm's ln2_hi (32 significant bits: k*ln2_hi is exact for
 *    |k| < 2^21) and ln2_lo, |r| <= ln2/2; e^r by a minimax polynomial of degree 11 (error
 *    3.2e-18; Taylor needs degree 13); 2^k applied as 2^(k+60) (normal, exact product) times
 *    2^-60, so that subnormal results are rounded once, at the last multiply.
 *  log: x = 2^k * (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)) (f exact), then fdlibm's e_log.c
 *    method: s = f/(2+f), log(1+f) = f - (hfsq - s*(hfsq + R(s^2))), hfsq = f^2/2, with fdlibm's
 *    minimax coefficients Lg1..Lg7 (|error of R| < 2^-58.45) and its k*ln2 assembly.
 *  log1p(t): u = 1 + t rounded; log1p(t) = log(u) + (t - (u - 1))/u. t - (u - 1) is u's exact
 *    rounding error (|.| <= 2^-53 u); 1/u comes from a short series near 1, where the quotient
 *    is most of the result, and from a minimax line above sqrt(2), where it is below 2^-52.
 *  log1p_01(t), t in [0, 1] (the logit kernels' log1p(exp(-|x|))): t + t^2 g(t) with
 *    g(t) = (log1p(t) - t)/t^2, a polynomial in t - 1/2 interpolating g at the Chebyshev nodes
 *    (mpmath, 60 digits): degree 20 for double (relative error of the result 2.7e-17 with the
 *    coefficients rounded), 9 for float (2.5e-8). g's singularity at t = -1 lies 3 half-widths
 *    from the interval's centre, so the error falls 5.8x per degree; t^2 g is at most 0.44 of
 *    the result, which damps g's errors, and t + t^2 g is exact to first order where t is tiny.
 *    22 operations against 35 for log(1 + t) with its rounding correction (2026-11-28).
 *  1/u on [1, 2]: a divide, correctly rounded.
 */
#ifndef CBCE_MATH_H
#define CBCE_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>


/* Every helper must inline into the element loops, or the loops stay scalar (GCC 13 left a
   fused loop un-inlined and 10x slower than GCC 12 did): force it. */
#if defined(__GNUC__) || defined(__clang__)
#define CBCE_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CBCE_INLINE __forceinline
#else
#define CBCE_INLINE inline
#endif

/* Whether multiply-adds are fused (x86 AVX2 and up, aarch64): two helpers pick their formula by
   it. -DCBCE_FMA=0 builds the unfused formulas anywhere: tools/check_aarch64.sh does, with
   -ffp-contract=off, to compare aarch64 with the x86-64 baseline bit for bit. */
#ifndef CBCE_FMA
#if defined(__FMA__) || defined(FP_FAST_FMA) || defined(__ARM_FEATURE_FMA)
#define CBCE_FMA 1
#else
#define CBCE_FMA 0
#endif
#endif

static CBCE_INLINE uint64_t cbce_asuint(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static CBCE_INLINE double cbce_asdouble(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

static const double cbce_ln2_hi = 6.93147180369123816490e-01;   /* fdlibm e_exp.c, e_log.c */
static const double cbce_ln2_lo = 1.90821492927058770002e-10;

/* 1/u for u in [1, 2]: a divide (see "Divides" above). */
static CBCE_INLINE double cbce_recip12(double u) { return 1.0 / u; }

/* e^x for x <= 0 (callers pass -|x|); NaN in, NaN out. */
static CBCE_INLINE double cbce_exp_nonpos(double x)
{
    const double shift = 0x1.8p52;
    const double log2e = 0x1.71547652b82fep0;
    x = x < -746.0 ? -746.0 : x;                 /* below: the result rounds to 0; NaN stays */
    double kd = x * log2e + shift;               /* k = round(x/ln2) in the low bits */
    uint64_t kbits = cbce_asuint(kd);
    kd -= shift;
    double rh = x - kd * cbce_ln2_hi, rl = kd * cbce_ln2_lo;      /* rh exact */
    double r = rh - rl;
    /* e^r: minimax polynomial of degree 11 on [-ln2/2, ln2/2] (mpmath.chebyfit, 40 digits;
       |error| < 3.2e-18, 0.03 ulp). The Taylor polynomial needs degree 13 for the same. */
    /* Evaluated as 1 + r*(1 + r*(c2 + r*q(r))), q = c3 + ... + c11 r^8 in two Horner chains in
       r^2 (even and odd coefficients): a shorter dependency chain than one Horner pass (the
       loops are partly latency-bound); the last three steps keep Horner's accuracy. */
    double r2 = r * r;
    double qe = 0x1.af632a0f7e2cep-26;
    qe = qe * r2 + 0x1.71ddf56d8deb5p-19;
    qe = qe * r2 + 0x1.a01a01b1461c5p-13;
    qe = qe * r2 + 0x1.111111110f21ep-7;
    qe = qe * r2 + 0x1.555555555555ap-3;
    double qo = 0x1.28b4101c77212p-22;
    qo = qo * r2 + 0x1.a01991a10d9aep-16;
    qo = qo * r2 + 0x1.6c16c1880029fp-10;
    qo = qo * r2 + 0x1.555555554f0bap-5;
    double p = qo * r + qe;
    p = p * r + 0x1.0000000000011p-1;
#if CBCE_FMA
    p = p * r + 1.0;
    p = p * r + 1.0;
#else
    /* Without FMA the last two steps round four times near the result (1.21 ulp measured):
       1 + (rh + (r*(r*p) - rl)) instead rounds only terms far below an ulp of the result
       (r*(r*p) < 0.07, rl < 2^-21, the sum < 0.41) before the last add, and skips r's own
       rounding (rh - rl). */
    double t = p * r;
    p = 1.0 + (rh + (r * t - rl));
#endif
    /* 2^k for k in [-1077, 0], rounded once: s = 2^(k+60) is normal (exponent field k + 1083
       in [6, 1083]), p*s is exact, and the constant 2^-60 rounds subnormal results. The
       exponent field is k + 1083 taken modulo 2^12 from kd's bits (shift = 1.5*2^52 is zero in
       its low 51 bits, so they hold k modulo 2^51); the shift by 52 drops all above. */
    double s = cbce_asdouble((kbits + 1083) << 52);
    return (p * s) * 0x1p-60;
}

/* k*ln2 + log(1 + f) for 1 + f in [sqrt(2)/2, sqrt(2)) (fdlibm e_log.c). */
static CBCE_INLINE double cbce_log_kf(double kd, double f)
{
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    double hfsq = 0.5 * f * f;
    return kd * cbce_ln2_hi - ((hfsq - (s * (hfsq + R) + kd * cbce_ln2_lo)) - f);
}

/* log(x) for x >= 0: log(0) = -inf, NaN propagates (x <= 2^1023; cbce needs x <= 2). */
static CBCE_INLINE double cbce_log(double x)
{
    const double shift = 0x1.8p52;
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcdULL;               /* sqrt(2)/2 */
    int64_t sub = x < 0x1p-1022;                                      /* subnormal or 0 */
    double xscaled = x * 0x1p52;
    double xs = sub ? xscaled : x;
    uint64_t ix = cbce_asuint(xs) + (0x3ff0000000000000ULL - sqrt_half);
    int64_t k = (int64_t)(ix >> 52) - 1023 - (sub ? 52 : 0);
    double m = cbce_asdouble((ix & 0x000fffffffffffffULL) + sqrt_half);  /* [0.707, 1.414) */
    /* (double)k by the shifter: AVX2 has no int64 -> double conversion. */
    double kd = cbce_asdouble(cbce_asuint(shift) + (uint64_t)k) - shift;
    double res = cbce_log_kf(kd, m - 1.0);                            /* m - 1 is exact */
    res = x == 0.0 ? -INFINITY : res;
    return x != x ? x : res;
}

/* cbce_log for x >= 2^-1022 (normal) or NaN, with the same bits: without the subnormal and
   zero selects, for arguments that are at least 1 (softmax's log S). */
static CBCE_INLINE double cbce_log_normal(double x)
{
    const double shift = 0x1.8p52;
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcdULL;               /* sqrt(2)/2 */
    uint64_t ix = cbce_asuint(x) + (0x3ff0000000000000ULL - sqrt_half);
    int64_t k = (int64_t)(ix >> 52) - 1023;
    double m = cbce_asdouble((ix & 0x000fffffffffffffULL) + sqrt_half);  /* [0.707, 1.414) */
    double kd = cbce_asdouble(cbce_asuint(shift) + (uint64_t)k) - shift;
    double res = cbce_log_kf(kd, m - 1.0);                            /* m - 1 is exact */
    return x != x ? x : res;
}

/* log(1 + t) = log(*u) + the return value, for t in [-1, 1]: cbce_log1p without its log, for
   loops that take one log of a selected argument (src/loops/bce_probs_f64.h). */
static CBCE_INLINE double cbce_log1p_corr(double t, double *u_out)
{
    double u = 1.0 + t;
    double d = u - 1.0;                             /* exact for u in [0.5, 2] */
    double c = t - d;                               /* u's rounding error, exact */
    /* c/u: c != 0 only for u in (0.5, 2], and |c| <= 2^-53 u. Where log(u) is small the
       quotient is most of the result (u = 1: it is all of it), so 1/u must be accurate there:
       1/(1+d) = (1-d)(1+d^2) + O(d^4). Above sqrt(2), where log(u) > 0.34, 6% will do: the
       minimax line. */
    double inv_lo = (1.0 - d) * (1.0 + d * d);
    double inv_hi = 1.4117647058823530 - 0.47058823529411764 * u;
    double inv = u < 1.4142135623730951 ? inv_lo : inv_hi;
    *u_out = u;
    return c * inv;
}

/* log(1 + t) for t in [-1, 1]; log1p(-1) = -inf, NaN propagates. */
static CBCE_INLINE double cbce_log1p(double t)
{
    double u;
    double corr = cbce_log1p_corr(t, &u);
    return cbce_log(u) + corr;
}

/* log(1 + t) for t in [0, 1] (t = exp(-|x|) in the logit kernels); NaN propagates.
   t + t^2 g(t), g(t) = (log1p(t) - t)/t^2 in [-1/2, -0.31] by a polynomial of degree 20 in
   t - 1/2: no reduction, no divide, no select (see the method notes above). */
static CBCE_INLINE double cbce_log1p_01(double t)
{
    double v = t - 0.5;
    double v2 = v * v;
    /* c0 + v*(c1 + v*q(v)), q = c2 + ... + c20 v^18 in two Horner chains in v^2 (even and odd
       coefficients): half the dependency chain of one Horner pass (the loops are partly
       latency-bound); the last two steps keep Horner's accuracy. */
    double qe = -0x1.80d9a3ccbf91fp-16;
    qe = qe * v2 + -0x1.b7b60cffcd11fp-16;
    qe = qe * v2 + -0x1.59d76729768ccp-14;
    qe = qe * v2 + -0x1.a7ba1ffdb4dcbp-13;
    qe = qe * v2 + -0x1.0f08dfdc87d0bp-11;
    qe = qe * v2 + -0x1.60737227c7dc1p-10;
    qe = qe * v2 + -0x1.d5fb02e8e4f0bp-9;
    qe = qe * v2 + -0x1.44ba45b9d5f97p-7;
    qe = qe * v2 + -0x1.da348248c136cp-6;
    qe = qe * v2 + -0x1.7ddf1fe86aa8bp-4;
    double qo = 0x1.2d368f35340b8p-15;
    qo = qo * v2 + 0x1.5b243c1b4b1a6p-15;
    qo = qo * v2 + 0x1.11ce2880d86a2p-13;
    qo = qo * v2 + 0x1.51de3a7ee466ep-12;
    qo = qo * v2 + 0x1.b3f52ec039017p-11;
    qo = qo * v2 + 0x1.1ebcbf79b310ep-9;
    qo = qo * v2 + 0x1.84905221be439p-8;
    qo = qo * v2 + 0x1.131116f660a62p-6;
    qo = qo * v2 + 0x1.a279c04c81491p-5;
    double p = qo * v + qe;
    p = p * v + 0x1.6f0d7bd624bcdp-3;
    p = p * v + -0x1.833704d019ed0p-2;
    return (t * t) * p + t;
}

/* ---------------------------------------------------------------------------------------------
 * Exact splits for powers q^g = exp(g*log q) (focal loss: cbce_elementwise.h, note E). exp(z)
 * has a relative error of |z|*eps from the rounding of z alone (z = -700: ~350 ulp), so g*log q
 * is carried as an unevaluated sum hi + lo: log q's large part k*ln2_hi is exact, g*hi is split
 * exactly by cbce_two_prod, and exp(hi + lo) = exp(s)*(1 + c) with s + c = hi + lo exactly
 * (cbce_two_sum).
 */

/* a*b = p + *err exactly (barring overflow). FMA where the target has it (AVX2, AVX-512,
   aarch64); else (x86-64 baseline and v2) Dekker's product with Veltkamp's split. Both are exact,
   so the targets agree bit for bit here. */
static CBCE_INLINE double cbce_two_prod(double a, double b, double* err)
{
    double p = a * b;
#if CBCE_FMA
    *err = fma(a, b, -p);
#else
    const double split = 134217729.0;                 /* 2^27 + 1 */
    double t = split * a;
    double ah = t - (t - a), al = a - ah;
    t = split * b;
    double bh = t - (t - b), bl = b - bh;
    *err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
    return p;
}

/* a + b = s + *err exactly (Knuth's branch-free TwoSum: no ordering of |a|, |b| needed). */
static CBCE_INLINE double cbce_two_sum(double a, double b, double* err)
{
    double s = a + b;
    double bb = s - a;
    *err = (a - (s - bb)) + (b - bb);
    return s;
}

/* log(x) = hi + *lo for x in [0, 2^1023]: hi = k*ln2_hi (exact: ln2_hi has 32 significant bits),
   *lo = log(m) + k*ln2_lo with x = 2^k*m, m in [sqrt(2)/2, sqrt(2)), |*lo| < 0.35. log(0) gives
   hi + lo = -inf; NaN propagates through *lo. Same accuracy as cbce_log for the sum. */
static CBCE_INLINE double cbce_log_split(double x, double* lo)
{
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcdULL;               /* sqrt(2)/2 */
    const double shift = 0x1.8p52;
    int64_t sub = x < 0x1p-1022;                                      /* subnormal or 0 */
    double xs = sub ? x * 0x1p52 : x;
    uint64_t ix = cbce_asuint(xs) + (0x3ff0000000000000ULL - sqrt_half);
    int64_t k = (int64_t)(ix >> 52) - 1023 - (sub ? 52 : 0);
    double m = cbce_asdouble((ix & 0x000fffffffffffffULL) + sqrt_half);  /* [0.707, 1.414) */
    double kd = cbce_asdouble(cbce_asuint(shift) + (uint64_t)k) - shift;
    double lm = cbce_log_kf(0.0, m - 1.0);                            /* m - 1 is exact */
    lm = x == 0.0 ? -INFINITY : lm;
    *lo = x != x ? x : lm + kd * cbce_ln2_lo;
    return kd * cbce_ln2_hi;
}

/* ---------------------------------------------------------------------------------------------
 * float32 versions, for the float32 kernels: float arithmetic doubles the SIMD lanes
 * (16 per AVX-512 vector), and the accuracy target is float32's ulp (<= 1.5 ulp each, checked
 * in tests/test_math.py). The same methods as the double versions, shorter polynomials:
 *  expf: Cody-Waite with cephes' C1 = 0.693359375 (9 significant bits: k*C1 exact for the
 *    |k| <= 150 of float's range) and C2; e^r = 1 + r + r^2 g(r), g a degree-4 minimax
 *    polynomial (mpmath.chebyfit; |r^2 (g - g*)| < 7.9e-9, 0.13 ulp).
 *  log1p_01_f: the polynomial method of log1p_01, degree 9.
 *  logf, log1pf (probabilities): the methods of log and log1p with fdlibm e_logf.c's Lg1..Lg4
 *    (|error| < 2^-34.24) and its ln2 split.
 */
static CBCE_INLINE uint32_t cbce_asuint_f(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static CBCE_INLINE float cbce_asfloat(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

static CBCE_INLINE float cbce_recip12_f(float u) { return 1.0f / u; }

static CBCE_INLINE float cbce_exp_nonpos_f(float x)
{
    const float shift = 0x1.8p23f;
    const float log2e = 0x1.715476p0f;
    x = x < -104.0f ? -104.0f : x;                     /* below: rounds to 0; NaN stays */
    float kd = x * log2e + shift;
    uint32_t kbits = cbce_asuint_f(kd);
    kd -= shift;
    float r = (x - kd * 0.693359375f) - kd * -2.12194440e-4f;
    float g = 0x1.6d117cp-10f;
    g = g * r + 0x1.120be2p-7f;
    g = g * r + 0x1.555518p-5f;
    g = g * r + 0x1.5554dcp-3f;
    g = g * r + 0x1p-1f;
    float p = 1.0f + (r + (r * r) * g);
    /* 2^k for k in [-150, 0], rounded once (see cbce_exp_nonpos): p*2^(k+25) >= 2^-125 p is
       normal and exact (exponent field k + 152 in [2, 152], from the low 9 bits of kd's),
       then 2^-25. */
    float s = cbce_asfloat((kbits + 152) << 23);
    return (p * s) * 0x1p-25f;
}

/* log(1 + t) for t in [0, 1], float; NaN propagates. The method of cbce_log1p_01, degree 9. */
static CBCE_INLINE float cbce_log1p_01_f(float t)
{
    float v = t - 0.5f;
    float v2 = v * v;                                  /* as above: two chains in v^2 */
    float qe = -0x1.2bf346p-8f;
    qe = qe * v2 + -0x1.3d4152p-7f;
    qe = qe * v2 + -0x1.da8bdap-6f;
    qe = qe * v2 + -0x1.7dde70p-4f;
    float qo = 0x1.6f3782p-9f;
    qo = qo * v2 + 0x1.7b4d38p-8f;
    qo = qo * v2 + 0x1.13473cp-6f;
    qo = qo * v2 + 0x1.a278e6p-5f;
    float p = qo * v + qe;
    p = p * v + 0x1.6f0d7cp-3f;
    p = p * v + -0x1.833706p-2f;
    return (t * t) * p + t;
}

/* log(x) for x >= 0, float: log(0) = -inf, NaN propagates (float32 probability kernels). The
   method of cbce_log with fdlibm e_logf.c's Lg1..Lg4 and ln2 split (see cbce_log1p_01_f). */
static CBCE_INLINE float cbce_log_f(float x)
{
    const float Lg1 = 0xaaaaaa.0p-24f, Lg2 = 0xccce13.0p-25f,
                Lg3 = 0x91e9ee.0p-25f, Lg4 = 0xf89e26.0p-26f;
    const float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
    const uint32_t sqrt_half = 0x3f3504f3u;                           /* sqrt(2)/2 */
    int32_t sub = x < 0x1p-126f;                                      /* subnormal or 0 */
    float xscaled = x * 0x1p23f;
    float xs = sub ? xscaled : x;
    uint32_t ix = cbce_asuint_f(xs) + (0x3f800000u - sqrt_half);
    int32_t k = (int32_t)(ix >> 23) - 127 - (sub ? 23 : 0);
    float f = cbce_asfloat((ix & 0x007fffffu) + sqrt_half) - 1.0f;  /* exact, [-0.29, 0.41) */
    float kd = (float)k;
    float s = f / (2.0f + f);
    float z = s * s;
    float w = z * z;
    float R = z * (Lg1 + w * Lg3) + w * (Lg2 + w * Lg4);
    float hfsq = 0.5f * f * f;
    float res = kd * ln2_hi - ((hfsq - (s * (hfsq + R) + kd * ln2_lo)) - f);
    res = x == 0.0f ? -INFINITY : res;
    return x != x ? x : res;
}

/* log(1 + t) for t in [-1, 1], float: cbce_log1p's method; log1p(-1) = -inf. */
static CBCE_INLINE float cbce_log1p_f(float t)
{
    float u = 1.0f + t;
    float d = u - 1.0f;                                /* exact for u in [0.5, 2] */
    float c = t - d;                                   /* u's rounding error, exact */
    float inv_lo = (1.0f - d) * (1.0f + d * d);
    float inv_hi = 1.4117647f - 0.47058824f * u;
    float inv = u < 1.41421356f ? inv_lo : inv_hi;
    return cbce_log_f(u) + c * inv;
}

#endif /* CBCE_MATH_H */
