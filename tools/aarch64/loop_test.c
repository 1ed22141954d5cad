/* loop_test.c -- every element loop of src/loops/ against the mpmath tables of tables.txt.
 *
 *   loop_test TABLES            check; last line: loops tested, values checked, maximum ulp
 *   loop_test TABLES --dump     print every output's bits instead (to compare two builds)
 *
 * Built by tools/check_aarch64.sh for aarch64 (run under qemu-aarch64) and natively for x86-64.
 * The loops are included from their headers and called through volatile pointers, so that each
 * stays one out-of-line function, vectorized as in the library (the check counts its vector
 * instructions). Each group of tables.txt (gen_tables.py) is one set of options over rows; every
 * loop of the group's family runs on it, and each output is checked against the exact value to
 * the bound of the accuracy contract, in ulps of the dtype (tests/test_extreme_values.py,
 * tests/test_focal.py, tests/test_cross_entropy.py). Rows are padded to a multiple of 16 with
 * copies of the first, so that every row runs through the vector body, as in the library.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loops/bce_loops.h"
#include "loops/softmax.h"

#define MAXN 4096
#define PAD 16

typedef struct {
    char fam[32], dt[8], label[64];
    int n, uni, flag, C;
    double keep, add, lo, hi, fl, sc, gamma, alpha, ulps[3];
} Group;

static double X[MAXN], Y[MAXN], W[MAXN], P[MAXN];
static double REF[3][MAXN], REFLO[3][MAXN], YS[3][MAXN];     /* loss, grad, hess */
static float XF[MAXN], YF[MAXN], WF[MAXN], PF[MAXN];
static double BUF[MAXN], G[MAXN], H[MAXN];
static float GF[MAXN], HF[MAXN];
/* softmax: rows of C classes, targets, exact loss and gradient */
static double SX[MAXN], SREF[MAXN], SREFLO[MAXN], SYS[MAXN];
static int64_t ST[MAXN];

static int dump, failures, checked, loops_tested;
static double max_ulp;
static const char *tested[128];

#define FP(f) static __typeof__(&f) volatile fp_##f = f;
FP(cbce_logit_loss_f64) FP(cbce_logit_grad_f64) FP(cbce_logit_loss_grad_f64)
FP(cbce_logit_grad_hess_f64) FP(cbce_logit_grad_hess_f32d) FP(cbce_logit_loss_f32)
FP(cbce_logit_grad_f32) FP(cbce_logit_loss_grad_f32)
FP(cbce_prob_loss_f64) FP(cbce_prob_grad_f64) FP(cbce_prob_loss_grad_f64)
FP(cbce_prob_loss_f32) FP(cbce_prob_grad_f32) FP(cbce_prob_loss_grad_f32)
FP(cbce_check_f64) FP(cbce_check_f32)
FP(cbce_focal_logit_loss_f64) FP(cbce_focal_logit_grad_f64) FP(cbce_focal_logit_loss_grad_f64)
FP(cbce_focal_logit_grad_hess_f64) FP(cbce_focal_prob_loss_f64) FP(cbce_focal_prob_grad_f64)
FP(cbce_focal_prob_loss_grad_f64)
FP(cbce_focal_logit_loss_f32) FP(cbce_focal_logit_grad_f32) FP(cbce_focal_logit_loss_grad_f32)
FP(cbce_focal_logit_grad_hess_f32) FP(cbce_focal_prob_loss_f32) FP(cbce_focal_prob_grad_f32)
FP(cbce_focal_prob_loss_grad_f32)
FP(cbce_sm_row_max) FP(cbce_sm_row_exp) FP(cbce_sm_row_targets) FP(cbce_sm_row_smooth)
FP(cbce_sm_row_grad) FP(cbce_sm_cols_max) FP(cbce_sm_cols_exp) FP(cbce_sm_cols_targets)
FP(cbce_sm_cols_smooth) FP(cbce_sm_cols_loss) FP(cbce_sm_cols_grad)

static void mark(const char *loop)
{
    for (int i = 0; i < loops_tested; i++)
        if (!strcmp(tested[i], loop))
            return;
    tested[loops_tested++] = loop;
}

static double spacing(double ys, int f32)
{
    if (f32) {
        float y = (float)ys;
        return y == 0.0f ? 0x1p-149 : (double)nextafterf(y, INFINITY) - (double)y;
    }
    return ys == 0.0 ? 0x1p-1074 : nextafter(ys, INFINITY) - ys;
}

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

/* One output value against its exact value (hi + lo) within ulps of the yardstick ys, plus an
   absolute floor. */
static void check(const Group *g, const char *loop, int row, const char *what, double got,
                  double hi, double lo, double ys, double ulps, double floor_)
{
    if (dump) {
        printf("%s %s %s %d %s %016llx\n", g->fam, g->label, loop, row, what,
               (unsigned long long)bits(got));
        return;
    }
    if (hi != hi || ys != ys)
        return;
    checked++;
    int f32 = !strcmp(g->dt, "f32");
    double err;
    if (isinf(hi))
        err = got == hi ? 0.0 : INFINITY;
    else if (!isfinite(got))
        err = INFINITY;
    else
        err = (fabs((got - hi) - lo) - floor_) / spacing(ys, f32);
    if (err > max_ulp)
        max_ulp = err;
    if (!(err <= ulps)) {
        failures++;
        if (failures <= 30)
            fprintf(stderr, "FAIL %s %s %s row %d %s: got %a, exact %a, %.3g ulp (bound %g)\n",
                    g->fam, g->label, loop, row, what, got, hi, err, ulps);
    }
}

static void check_flag(const Group *g, const char *loop, int bad)
{
    if (dump) {
        printf("%s %s %s flag %d\n", g->fam, g->label, loop, bad);
        return;
    }
    checked++;
    if (bad != g->flag) {
        failures++;
        fprintf(stderr, "FAIL %s %s %s: range flag %d, expected %d\n", g->fam, g->label, loop,
                bad, g->flag);
    }
}

/* Outputs of rows [0, n): k = 0 loss (buf), 1 grad, 2 hess. */
static void check_out(const Group *g, const char *loop, int k, const double *d, const float *f)
{
    static const char *what[3] = {"loss", "grad", "hess"};
    for (int i = 0; i < g->n; i++) {
        double got = d ? d[i] : (double)f[i], fl = 0.0;
        if (k == 2 && !strcmp(g->fam, "focal_logit") && !strcmp(g->dt, "f64") && fabs(X[i]) > 708.0)
            fl = W[i] * (1 + g->gamma) * (1 + g->gamma) * (P[i] + 1) * (fabs(X[i]) + 1) * 0x1p-1074;
        check(g, loop, i, what[k], got, REF[k][i], REFLO[k][i], YS[k][i], g->ulps[k], fl);
    }
}

/* Run loop `name` on the group; check its range flag (range-check groups) or its outputs. */
#define RUN(name, call, ...)                                                                  \
    do {                                                                                      \
        const char *cur = #name;                                                              \
        mark(cur);                                                                            \
        int bad_ = fp_##name call;                                                            \
        if (range) check_flag(g, cur, bad_); else { __VA_ARGS__; }                            \
    } while (0)
#define OUT(k, d, f) check_out(g, cur, k, d, f)
/* The range checks alone, on the range-check groups. */
#define CHECK(name, args)                                                                     \
    if (range) { mark(#name); check_flag(g, #name, fp_##name args); }

static void run_bce(const Group *g, int np)
{
    int range = !strcmp(g->label, "range-check");
    double kp = g->keep, ad = g->add, lo = g->lo, hi = g->hi, fl = g->fl, sc = g->sc;
    double ga = g->gamma, al = g->alpha;
    int u = g->uni;
    if (!strcmp(g->dt, "f64")) {
        if (!strcmp(g->fam, "logit")) {
            RUN(cbce_logit_loss_f64, (np, u, X, Y, W, P, kp, ad, BUF), OUT(0, BUF, 0));
            RUN(cbce_logit_grad_f64, (np, u, X, Y, W, P, kp, ad, sc, G), OUT(1, G, 0));
            RUN(cbce_logit_loss_grad_f64, (np, u, X, Y, W, P, kp, ad, sc, BUF, G),
                OUT(0, BUF, 0); OUT(1, G, 0));
            RUN(cbce_logit_grad_hess_f64, (np, u, X, Y, W, P, kp, ad, sc, G, H),
                OUT(1, G, 0); OUT(2, H, 0));
            CHECK(cbce_check_f64, (np, X, Y, 0));
        } else if (!strcmp(g->fam, "prob")) {
            RUN(cbce_prob_loss_f64, (np, u, X, Y, W, P, kp, ad, lo, hi, BUF), OUT(0, BUF, 0));
            RUN(cbce_prob_grad_f64, (np, u, X, Y, W, P, kp, ad, lo, hi, fl, sc, G), OUT(1, G, 0));
            RUN(cbce_prob_loss_grad_f64, (np, u, X, Y, W, P, kp, ad, lo, hi, fl, sc, BUF, G),
                OUT(0, BUF, 0); OUT(1, G, 0));
            CHECK(cbce_check_f64, (np, X, Y, 1));
        } else if (!strcmp(g->fam, "focal_logit")) {
            RUN(cbce_focal_logit_loss_f64, (np, X, Y, W, P, kp, ad, ga, al, BUF), OUT(0, BUF, 0));
            RUN(cbce_focal_logit_grad_f64, (np, X, Y, W, P, kp, ad, ga, al, sc, G), OUT(1, G, 0));
            RUN(cbce_focal_logit_loss_grad_f64, (np, X, Y, W, P, kp, ad, ga, al, sc, BUF, G),
                OUT(0, BUF, 0); OUT(1, G, 0));
            RUN(cbce_focal_logit_grad_hess_f64, (np, X, Y, W, P, kp, ad, ga, al, sc, G, H),
                OUT(1, G, 0); OUT(2, H, 0));
        } else {
            RUN(cbce_focal_prob_loss_f64, (np, X, Y, W, P, kp, ad, lo, hi, ga, al, BUF),
                OUT(0, BUF, 0));
            RUN(cbce_focal_prob_grad_f64, (np, X, Y, W, P, kp, ad, lo, hi, ga, al, fl, sc, G),
                OUT(1, G, 0));
            RUN(cbce_focal_prob_loss_grad_f64,
                (np, X, Y, W, P, kp, ad, lo, hi, ga, al, fl, sc, BUF, G),
                OUT(0, BUF, 0); OUT(1, G, 0));
        }
        return;
    }
    float kf = (float)kp, af = (float)ad, sf = (float)sc;
    if (!strcmp(g->fam, "logit")) {
        RUN(cbce_logit_loss_f32, (np, u, XF, YF, WF, PF, kf, af, BUF), OUT(0, BUF, 0));
        RUN(cbce_logit_grad_f32, (np, u, XF, YF, WF, PF, kf, af, sf, GF), OUT(1, 0, GF));
        RUN(cbce_logit_loss_grad_f32, (np, u, XF, YF, WF, PF, kf, af, sf, BUF, GF),
            OUT(0, BUF, 0); OUT(1, 0, GF));
        RUN(cbce_logit_grad_hess_f32d, (np, u, XF, YF, WF, PF, kp, ad, sc, GF, HF),
            OUT(1, 0, GF); OUT(2, 0, HF));
        CHECK(cbce_check_f32, (np, XF, YF, 0));
    } else if (!strcmp(g->fam, "prob")) {
        RUN(cbce_prob_loss_f32, (np, u, XF, YF, WF, PF, kp, ad, lo, hi, BUF), OUT(0, BUF, 0));
        RUN(cbce_prob_grad_f32, (np, u, XF, YF, WF, PF, kp, ad, lo, hi, fl, sc, GF), OUT(1, 0, GF));
        RUN(cbce_prob_loss_grad_f32, (np, u, XF, YF, WF, PF, kp, ad, lo, hi, fl, sc, BUF, GF),
            OUT(0, BUF, 0); OUT(1, 0, GF));
        CHECK(cbce_check_f32, (np, XF, YF, 1));
    } else if (!strcmp(g->fam, "focal_logit")) {
        RUN(cbce_focal_logit_loss_f32, (np, XF, YF, WF, PF, kp, ad, ga, al, BUF), OUT(0, BUF, 0));
        RUN(cbce_focal_logit_grad_f32, (np, XF, YF, WF, PF, kp, ad, ga, al, sc, GF), OUT(1, 0, GF));
        RUN(cbce_focal_logit_loss_grad_f32, (np, XF, YF, WF, PF, kp, ad, ga, al, sc, BUF, GF),
            OUT(0, BUF, 0); OUT(1, 0, GF));
        RUN(cbce_focal_logit_grad_hess_f32, (np, XF, YF, WF, PF, kp, ad, ga, al, sc, GF, HF),
            OUT(1, 0, GF); OUT(2, 0, HF));
    } else {
        RUN(cbce_focal_prob_loss_f32, (np, XF, YF, WF, PF, kp, ad, lo, hi, ga, al, BUF),
            OUT(0, BUF, 0));
        RUN(cbce_focal_prob_grad_f32, (np, XF, YF, WF, PF, kp, ad, lo, hi, ga, al, fl, sc, GF),
            OUT(1, 0, GF));
        RUN(cbce_focal_prob_loss_grad_f32,
            (np, XF, YF, WF, PF, kp, ad, lo, hi, ga, al, fl, sc, BUF, GF),
            OUT(0, BUF, 0); OUT(1, 0, GF));
    }
}

static double sum(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* Softmax cross-entropy of each row, composed from the loops as src/_multiclass_impl.pxi does
   (plain sums in place of its pairwise sums: a few classes), by rows (probability targets and
   class indices) and by columns (Note M's transposed chunks; both target kinds). */
static void run_softmax(const Group *g)
{
    int C = g->C, n = g->n;
    double kp = g->keep, ad = g->add, cw[8], E[8], Et[8], A[8], L[8], Yr[8], Gr[8];
    for (int c = 0; c < C; c++)
        cw[c] = 1.0;
    char name[64];
    for (int path = 0; path < 2; path++) {             /* 0: probability targets, 1: indices */
        const char *tag = path ? "row-indices" : "row-targets";
        mark("cbce_sm_row_max"), mark("cbce_sm_row_exp"), mark("cbce_sm_row_grad");
        mark(path ? "cbce_sm_row_smooth" : "cbce_sm_row_targets");
        for (int i = 0; i < n; i++) {
            const double *x = SX + i * C;
            int64_t t = ST[i];
            double m = fp_cbce_sm_row_max(C, x);
            long long ties = fp_cbce_sm_row_exp(C, x, m, E, Et);
            double Sp = sum(Et, C) + (double)(ties - 1) + (m - m), logS = cbce_sm_log1p_pos(Sp);
            double Wt, lt;
            if (path) {
                double at = cw[t] * kp;
                Wt = at + ad * sum(cw, C);
                lt = at == 0.0 ? 0.0 : at * (m - x[t]);
                if (ad != 0.0) {
                    fp_cbce_sm_row_smooth(C, x, cw, m, ad, L);
                    lt = lt + sum(L, C);
                }
                fp_cbce_sm_row_grad(C, x, E, NULL, cw, t, kp, ad, m, Wt, Sp, 1.0, Gr);
            } else {
                for (int c = 0; c < C; c++)
                    Yr[c] = c == t;
                fp_cbce_sm_row_targets(C, x, Yr, cw, m, kp, ad, A, L);
                Wt = sum(A, C);
                lt = sum(L, C);
                fp_cbce_sm_row_grad(C, x, E, A, cw, 0, kp, ad, m, Wt, Sp, 1.0, Gr);
            }
            snprintf(name, sizeof name, "%s", tag);
            check(g, name, i, "loss", Wt * logS + lt, SREF[i * (C + 1)], SREFLO[i * (C + 1)],
                  SYS[i * (C + 1)], g->ulps[0], 0.0);
            for (int c = 0; c < C; c++)
                check(g, name, i, "grad", Gr[c], SREF[i * (C + 1) + 1 + c],
                      SREFLO[i * (C + 1) + 1 + c], SYS[i * (C + 1) + 1 + c], g->ulps[1], 0.0);
        }
    }
    /* columns: XT is C x R, class-major */
    static double XT[MAXN], M[MAXN], ET[MAXN], SP[MAXN], TI[MAXN], AT[MAXN], WW[MAXN], LT[MAXN],
        SW[MAXN], KP[MAXN], LB[MAXN];
    int R = (n + PAD - 1) / PAD * PAD;
    for (int path = 0; path < 2; path++) {
        const char *tag = path ? "cols-indices" : "cols-targets";
        mark("cbce_sm_cols_max"), mark("cbce_sm_cols_exp"), mark("cbce_sm_cols_loss");
        mark("cbce_sm_cols_grad"), mark(path ? "cbce_sm_cols_smooth" : "cbce_sm_cols_targets");
        for (int i = 0; i < R; i++) {
            int s = i < n ? i : 0;
            for (int c = 0; c < C; c++) {
                XT[c * R + i] = SX[s * C + c];
                AT[c * R + i] = c == ST[s];
            }
            SW[i] = 1.0, KP[i] = 1.0;
        }
        fp_cbce_sm_cols_max(C, R, R, XT, M);
        fp_cbce_sm_cols_exp(C, R, R, XT, M, ET, SP, TI);
        if (path) {
            for (int i = 0; i < R; i++) {
                int64_t t = ST[i < n ? i : 0];
                double at = cw[t] * kp;
                WW[i] = at + ad * sum(cw, C);
                LT[i] = at == 0.0 ? 0.0 : at * (M[i] - XT[t * R + i]);
            }
            if (ad != 0.0)
                fp_cbce_sm_cols_smooth(C, R, R, XT, M, cw, ad, LT);
        } else {
            fp_cbce_sm_cols_targets(C, R, R, XT, M, cw, kp, ad, AT, WW, LT);
        }
        fp_cbce_sm_cols_loss(R, M, WW, LT, KP, 1.0, SP, TI, SW, LB);
        static int64_t T[MAXN];
        for (int i = 0; i < R; i++)
            T[i] = ST[i < n ? i : 0];
        fp_cbce_sm_cols_grad(C, R, R, XT, M, path ? NULL : AT, T, cw, kp, ad, WW, SP, TI, SW, KP,
                             ET);
        for (int i = 0; i < n; i++) {
            check(g, tag, i, "loss", LB[i], SREF[i * (C + 1)], SREFLO[i * (C + 1)],
                  SYS[i * (C + 1)], g->ulps[0], 0.0);
            for (int c = 0; c < C; c++)
                check(g, tag, i, "grad", ET[c * R + i], SREF[i * (C + 1) + 1 + c],
                      SREFLO[i * (C + 1) + 1 + c], SYS[i * (C + 1) + 1 + c], g->ulps[1], 0.0);
        }
    }
}

static double num(char **s)
{
    char *end;
    double v = strtod(*s, &end);
    if (end == *s) {
        fprintf(stderr, "tables: number expected at '%.20s'\n", *s);
        exit(2);
    }
    *s = end;
    return v;
}

static int parse_head(char *line, Group *g)
{
    int off;
    memset(g, 0, sizeof *g);
    if (sscanf(line, "group %d %31s %7s %63s%n", &g->n, g->fam, g->dt, g->label, &off) != 4)
        return 0;
    for (char *tok = strtok(line + off, " \n"); tok; tok = strtok(NULL, " \n")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "uni")) g->uni = atoi(v);
        else if (!strcmp(k, "keep")) g->keep = strtod(v, 0);
        else if (!strcmp(k, "add")) g->add = strtod(v, 0);
        else if (!strcmp(k, "lo")) g->lo = strtod(v, 0);
        else if (!strcmp(k, "hi")) g->hi = strtod(v, 0);
        else if (!strcmp(k, "fl")) g->fl = strtod(v, 0);
        else if (!strcmp(k, "sc")) g->sc = strtod(v, 0);
        else if (!strcmp(k, "gamma")) g->gamma = strtod(v, 0);
        else if (!strcmp(k, "alpha")) g->alpha = strtod(v, 0);
        else if (!strcmp(k, "flag")) g->flag = atoi(v);
        else if (!strcmp(k, "C")) g->C = atoi(v);
        else if (!strcmp(k, "ulps"))
            sscanf(v, "%lf,%lf,%lf", &g->ulps[0], &g->ulps[1], &g->ulps[2]);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TABLES [--dump]\n", argv[0]);
        return 2;
    }
    dump = argc > 2 && !strcmp(argv[2], "--dump");
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static char line[1 << 16];
    int groups = 0;
    Group g;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        if (!parse_head(line, &g) || g.n > MAXN - PAD) {
            fprintf(stderr, "tables: bad group line: %.80s\n", line);
            return 2;
        }
        groups++;
        for (int i = 0; i < g.n; i++) {
            if (!fgets(line, sizeof line, f)) {
                fprintf(stderr, "tables: truncated\n");
                return 2;
            }
            char *s = line;
            if (!strcmp(g.fam, "softmax")) {
                for (int c = 0; c < g.C; c++)
                    SX[i * g.C + c] = num(&s);
                ST[i] = (int64_t)num(&s);
                for (int k = 0; k <= g.C; k++) {
                    SREF[i * (g.C + 1) + k] = num(&s);
                    SREFLO[i * (g.C + 1) + k] = num(&s);
                    SYS[i * (g.C + 1) + k] = num(&s);
                }
                continue;
            }
            X[i] = num(&s), Y[i] = num(&s), W[i] = num(&s), P[i] = num(&s);
            for (int k = 0; k < 3; k++)
                REF[k][i] = num(&s), REFLO[k][i] = num(&s), YS[k][i] = num(&s);
        }
        if (!strcmp(g.fam, "softmax")) {
            run_softmax(&g);
            continue;
        }
        int np = (g.n + PAD - 1) / PAD * PAD;
        for (int i = g.n; i < np; i++)
            X[i] = X[0], Y[i] = Y[0], W[i] = W[0], P[i] = P[0];
        for (int i = 0; i < np; i++)
            XF[i] = (float)X[i], YF[i] = (float)Y[i], WF[i] = (float)W[i], PF[i] = (float)P[i];
        run_bce(&g, np);
    }
    fclose(f);
    if (!dump)
        printf("%d groups, %d loops tested, %d values checked, %d failures, maximum %.3f ulp\n",
               groups, loops_tested, checked, failures, max_ulp);
    return failures != 0;
}
