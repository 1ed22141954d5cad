# Included by src/_kernels.pyx, the core module: compiled once, without -march. The element
# loops it runs come from the loop table of one CPU target (src/loops/table.h), picked at import.
"""Array loops of cbce: blocked, multi-threaded, deterministic passes over strided operands.

Layer 2 of cbce (facade -> entry points -> these loops -> cbce/include/cbce_elementwise.h). The loops
never validate arguments (the facade does) and never hold the GIL.

Design notes
A. Operands. Every input arrives as a 2-D strided view (rows, cols) that the facade built without
   copying (adjacent dimensions merged where every operand allows it; broadcast weights have zero
   strides). Outputs are C-contiguous and addressed by the flat C-order index. Each block first
   makes every input contiguous: a flat-contiguous operand is used in place, a broadcast scalar
   (or a missing weight, a constant 1) fills a tile, anything else is gathered into a tile. The
   math then runs as one contiguous loop per (operation, input kind) that GCC vectorizes; the
   tile copies run at L1 speed, far below the cost of exp and log.
B. Determinism. The flat index range is cut into fixed blocks of BLOCK elements. A block's
   per-element losses go to a stack buffer and are summed pairwise in a fixed order; the block
   partials are summed pairwise in block order. The reduced loss therefore depends neither on the
   thread count nor on the operands' strides (an OpenMP reduction(+) would depend on both), and
   the pairwise sums keep the error at O(log N) ulp (<= 1e-14 relative vs math.fsum).
C. Range checks are fused: each block ORs its elements' validity into one flag; only the first
   failing block is walked again, one element at a time, to find the index for the message.
D. Options are hoisted: one tight loop per (operation, input kind, type), in C
   (src/loops/) so that each carries `#pragma omp simd` and vectorizes whatever the
   compiler's heuristics (GCC 13 left two of them scalar, 10x slower); the switch runs once per
   block, never per element. Range flags are OR-ed with bitwise operators: no branch.
E. CPU targets. Only the element loops need a target's instructions: src/loops/table.c is
   compiled once per target (baseline; on x86-64 sse42, avx2, avx512) into a table of function
   pointers, and this core, built once, calls the loops of the table in use (LOOPS) once per
   block. cbce/_dispatch.py picks the table at import. Everything here (blocks, tiles, sums,
   checks) is target-independent, so a target changes only the loops' results, in the last bits.
"""
cimport cython
from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free
from libc.math cimport NAN

from libc.stdint cimport int64_t

cdef extern from *:
    """
    #if CBCE_OPENMP
    #include <omp.h>
    static int cbce_max_threads(void) { return omp_get_max_threads(); }
    static int cbce_num_procs(void) { return omp_get_num_procs(); }
    #else
    static int cbce_max_threads(void) { return 1; }
    static int cbce_num_procs(void) { return 1; }
    #endif
    """
    int cbce_max_threads() noexcept nogil
    int cbce_num_procs() noexcept nogil


cdef extern from "cpu_dispatch.h" nogil:
    # The element loops of one CPU target (src/loops/table.h; src/loops/: C, for
    # `#pragma omp simd`), compiled once per target; LOOPS is the one in use.
    ctypedef struct cbce_loop_table:
        const char* name
        int (*logit_loss_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                              const double*, double, double, double*) noexcept nogil
        int (*logit_grad_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                              const double*, double, double, double, double*) noexcept nogil
        int (*logit_loss_grad_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                                   const double*, double, double, double, double*,
                                   double*) noexcept nogil
        int (*logit_grad_hess_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                                   const double*, double, double, double, double*,
                                   double*) noexcept nogil
        int (*logit_grad_hess_f32d)(Py_ssize_t, int, const float*, const float*, const float*,
                                    const float*, double, double, double, float*,
                                    float*) noexcept nogil
        int (*logit_loss_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                              const float*, float, float, double*) noexcept nogil
        int (*logit_grad_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                              const float*, float, float, float, float*) noexcept nogil
        int (*logit_loss_grad_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                                   const float*, float, float, float, double*,
                                   float*) noexcept nogil
        int (*prob_loss_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                             const double*, double, double, double, double,
                             double*) noexcept nogil
        int (*prob_grad_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                             const double*, double, double, double, double, double, double,
                             double*) noexcept nogil
        int (*prob_loss_grad_f64)(Py_ssize_t, int, const double*, const double*, const double*,
                                  const double*, double, double, double, double, double, double,
                                  double*, double*) noexcept nogil
        int (*prob_loss_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                             const float*, double, double, double, double,
                             double*) noexcept nogil
        int (*prob_grad_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                             const float*, double, double, double, double, double, double,
                             float*) noexcept nogil
        int (*prob_loss_grad_f32)(Py_ssize_t, int, const float*, const float*, const float*,
                                  const float*, double, double, double, double, double, double,
                                  double*, float*) noexcept nogil
        int (*check_f64)(Py_ssize_t, const double*, const double*, int) noexcept nogil
        int (*check_f32)(Py_ssize_t, const float*, const float*, int) noexcept nogil
        # Focal BCE: the same shape as the loops above, plus gamma and alpha (< 0: None).
        int (*focal_logit_loss_f64)(Py_ssize_t, const double*, const double*, const double*,
                                    const double*, double, double, double, double,
                                    double*) noexcept nogil
        int (*focal_logit_grad_f64)(Py_ssize_t, const double*, const double*, const double*,
                                    const double*, double, double, double, double, double,
                                    double*) noexcept nogil
        int (*focal_logit_loss_grad_f64)(Py_ssize_t, const double*, const double*,
                                         const double*, const double*, double, double, double,
                                         double, double, double*, double*) noexcept nogil
        int (*focal_logit_grad_hess_f64)(Py_ssize_t, const double*, const double*,
                                         const double*, const double*, double, double, double,
                                         double, double, double*, double*) noexcept nogil
        int (*focal_prob_loss_f64)(Py_ssize_t, const double*, const double*, const double*,
                                   const double*, double, double, double, double, double,
                                   double, double*) noexcept nogil
        int (*focal_prob_grad_f64)(Py_ssize_t, const double*, const double*, const double*,
                                   const double*, double, double, double, double, double,
                                   double, double, double, double*) noexcept nogil
        int (*focal_prob_loss_grad_f64)(Py_ssize_t, const double*, const double*,
                                        const double*, const double*, double, double, double,
                                        double, double, double, double, double, double*,
                                        double*) noexcept nogil
        int (*focal_logit_loss_f32)(Py_ssize_t, const float*, const float*, const float*,
                                    const float*, double, double, double, double,
                                    double*) noexcept nogil
        int (*focal_logit_grad_f32)(Py_ssize_t, const float*, const float*, const float*,
                                    const float*, double, double, double, double, double,
                                    float*) noexcept nogil
        int (*focal_logit_loss_grad_f32)(Py_ssize_t, const float*, const float*, const float*,
                                         const float*, double, double, double, double, double,
                                         double*, float*) noexcept nogil
        int (*focal_logit_grad_hess_f32)(Py_ssize_t, const float*, const float*, const float*,
                                         const float*, double, double, double, double, double,
                                         float*, float*) noexcept nogil
        int (*focal_prob_loss_f32)(Py_ssize_t, const float*, const float*, const float*,
                                   const float*, double, double, double, double, double, double,
                                   double*) noexcept nogil
        int (*focal_prob_grad_f32)(Py_ssize_t, const float*, const float*, const float*,
                                   const float*, double, double, double, double, double, double,
                                   double, double, float*) noexcept nogil
        int (*focal_prob_loss_grad_f32)(Py_ssize_t, const float*, const float*, const float*,
                                        const float*, double, double, double, double, double,
                                        double, double, double, double*, float*) noexcept nogil
        # Softmax cross-entropy (src/_multiclass_impl.pxi, Notes I and M).
        double (*sm_row_max)(Py_ssize_t n, const double* X) noexcept nogil
        long long (*sm_row_exp)(Py_ssize_t n, const double* X, double m, double* E,
                                double* Et) noexcept nogil
        void (*sm_row_targets)(Py_ssize_t n, const double* X, const double* Y, const double* cw,
                               double m, double keep, double add, double* A,
                               double* L) noexcept nogil
        void (*sm_row_smooth)(Py_ssize_t n, const double* X, const double* cw, double m,
                              double add, double* L) noexcept nogil
        void (*sm_row_grad)(Py_ssize_t n, const double* X, const double* E, const double* A,
                            const double* cw, int64_t t, double keep, double add, double m,
                            double W, double Sp, double gs, double* G) noexcept nogil
        double (*sm_log1p_pos)(double s) noexcept nogil
        void (*sm_cols_max)(Py_ssize_t C, Py_ssize_t R, Py_ssize_t nr, const double* XT,
                            double* M) noexcept nogil
        void (*sm_cols_exp)(Py_ssize_t C, Py_ssize_t R, Py_ssize_t nr, const double* XT,
                            const double* M, double* ET, double* SP, double* TI) noexcept nogil
        void (*sm_cols_targets)(Py_ssize_t C, Py_ssize_t R, Py_ssize_t nr, const double* XT,
                                const double* M, const double* cw, double keep, double add,
                                double* AT, double* WW, double* LT) noexcept nogil
        void (*sm_cols_smooth)(Py_ssize_t C, Py_ssize_t R, Py_ssize_t nr, const double* XT,
                               const double* M, const double* cw, double add,
                               double* LT) noexcept nogil
        void (*sm_cols_loss)(Py_ssize_t nr, const double* M, const double* WW, const double* LT,
                             const double* KP, double scale, double* SP, double* TI, double* SW,
                             double* buf) noexcept nogil
        void (*sm_cols_grad)(Py_ssize_t C, Py_ssize_t R, Py_ssize_t nr, const double* XT,
                             const double* M, const double* AT, const int64_t* T,
                             const double* cw, double keep, double add, const double* WW,
                             const double* SP, const double* TI, const double* SW,
                             const double* KP, double* ET) noexcept nogil
        int (*math_eval)(int which, Py_ssize_t n, const double* x, double* out) noexcept nogil
    const cbce_loop_table* cbce_built_tables[]
    const cbce_loop_table* cbce_find_table(const char* name)
    const cbce_loop_table cbce_loops_baseline
    int cbce_cpu_has(int which)


cdef const cbce_loop_table* LOOPS = &cbce_loops_baseline

cdef enum:
    # Elements per block (Note B): 16 KiB of doubles on the stack, L1-resident while summed.
    BLOCK = 2048
    # Below this many elements one thread is about as fast as waking a team (fork/join costs a
    # few microseconds). Measured on the dev machine, 2026-11-28, two threads against one
    # (loss and fused loss+grad from logits): float32 1.02 / 0.94 at 4096 elements, 0.80 /
    # 0.73 at 8192, 0.63 / 0.66 at 16384; float64 0.79 / 0.73 at 4096, 0.59 at 16384. The
    # threshold keeps a margin for machines whose teams wake slower.
    PARALLEL_MIN = 16384
    # The element loops run on multiples of this many elements (run_block): a multiple of every
    # variant's vector loop step (AVX-512: 16 doubles or floats per iteration), so no element is
    # left to a remainder loop.
    TAIL = 64

# Operation and reduction codes; the facade passes them as the Python ints exported below.
cdef enum:
    OP_LOSS = 0
    OP_GRAD = 1
    OP_LOSS_GRAD = 2
    OP_GRAD_HESS = 3
    OP_CHECK = 4
    OP_WSUM = 5
    RED_NONE = 0
    RED_SUM = 1
    RED_MEAN = 2
    RED_WEIGHTED_MEAN = 3

OPS = {"loss": OP_LOSS, "grad": OP_GRAD, "loss_grad": OP_LOSS_GRAD, "grad_hess": OP_GRAD_HESS,
       "check": OP_CHECK}
REDUCTIONS = {"none": RED_NONE, "sum": RED_SUM, "mean": RED_MEAN,
              "weighted_mean": RED_WEIGHTED_MEAN}
OPENMP = bool(CBCE_OPENMP)
BLOCK_SIZE = BLOCK
PARALLEL_THRESHOLD = PARALLEL_MIN


cdef enum:
    CONTIGUOUS = 0             # flat C order: block b starts at data + b*BLOCK*itemsize
    SCALAR = 1                 # one value broadcast everywhere (zero strides)
    STRIDED = 2                # anything else: gathered into a tile

cdef struct Operand:
    char* data
    Py_ssize_t s0, s1          # byte strides of the (rows, cols) view
    int mode


cdef struct Job:
    int op
    bint logits
    Py_ssize_t n, cols
    Operand x, y, w, pw
    char* loss_out             # flat, C-contiguous, or NULL
    char* grad_out
    char* hess_out
    double keep, add           # label smoothing: y <- y*keep + add
    double lo, hi              # probabilities are clipped to [lo, hi] (eps, or [0, 1])
    double floor               # gradient denominator floor, in the input's float type
    double scale               # reduction scale of gradient and hessian (1, 1/N or 1/sum w)
    bint focal                 # focal BCE: math_loop_focal runs instead
    double gamma, alpha        # focal exponent; alpha < 0 is None (alpha_t = 1)
    double* partial            # per-block loss sums
    unsigned char* bad         # per-block validity flags


cdef double _ONE_D = 1.0
cdef float _ONE_F = 1.0


cdef double pairwise_sum(const double* a, Py_ssize_t n) noexcept nogil:
    """Sum a[0:n] in a fixed order: 8 running sums below 128 elements, halves above."""
    cdef double s[8]
    cdef Py_ssize_t i, j, m
    if n < 8:
        s[0] = 0.0
        for i in range(n):
            s[0] += a[i]
        return s[0]
    if n <= 128:
        for j in range(8):
            s[j] = a[j]
        i = 8
        while i + 8 <= n:
            for j in range(8):
                s[j] += a[i + j]
            i += 8
        s[0] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
        while i < n:
            s[0] += a[i]
            i += 1
        return s[0]
    m = (n // 2) // 8 * 8
    return pairwise_sum(a, m) + pairwise_sum(a + m, n - m)


cdef inline floating _ld(const char* p, floating tag) noexcept nogil:
    return (<const floating*>p)[0]


cdef const floating* contiguous(const Operand* o, const Job* j, Py_ssize_t start, Py_ssize_t n,
                                floating* tile) noexcept nogil:
    """Elements start .. start+n-1 of operand o as a contiguous array (Note A)."""
    cdef Py_ssize_t k = 0, m, i, r, c
    cdef const char* p
    cdef floating v
    if o.mode == CONTIGUOUS:
        return <const floating*>o.data + start
    if o.mode == SCALAR:
        v = (<const floating*>o.data)[0]
        for i in range(n):
            tile[i] = v
        return tile
    r = start // j.cols
    c = start % j.cols
    while k < n:
        m = j.cols - c
        if m > n - k:
            m = n - k
        p = o.data + r * o.s0 + c * o.s1
        for i in range(m):
            tile[k + i] = (<const floating*>(p + i * o.s1))[0]
        k += m
        r += 1
        c = 0
    return tile


cdef int math_loop(const Job* j, const floating* X, const floating* Y, const floating* W,
                   const floating* P, Py_ssize_t n, floating* g, floating* h, double* buf,
                   bint uni) noexcept nogil:
    """The per-element math of n elements over contiguous inputs (Note D): one C loop per
    (operation, input kind, type); gradients to g, hessians to h. Returns 1 if an element is
    invalid."""
    cdef double keep = j.keep, add = j.add, lo = j.lo, hi = j.hi, fl = j.floor, sc = j.scale
    cdef Py_ssize_t k
    cdef int op = j.op

    if op == OP_WSUM:
        for k in range(n):
            buf[k] = W[0] if uni else W[k]
        return 0
    if op == OP_CHECK:
        if floating is double:
            return LOOPS.check_f64(n, X, Y, not j.logits)
        else:
            return LOOPS.check_f32(n, X, Y, not j.logits)
    if j.focal:
        return math_loop_focal(j, X, Y, W, P, n, g, h, buf)

    if floating is double:
        if j.logits:
            if op == OP_LOSS:
                return LOOPS.logit_loss_f64(n, uni, X, Y, W, P, keep, add, buf)
            if op == OP_GRAD:
                return LOOPS.logit_grad_f64(n, uni, X, Y, W, P, keep, add, sc, g)
            if op == OP_LOSS_GRAD:
                return LOOPS.logit_loss_grad_f64(n, uni, X, Y, W, P, keep, add, sc, buf, g)
            return LOOPS.logit_grad_hess_f64(n, uni, X, Y, W, P, keep, add, sc, g, h)
        if op == OP_LOSS:
            return LOOPS.prob_loss_f64(n, uni, X, Y, W, P, keep, add, lo, hi, buf)
        if op == OP_GRAD:
            return LOOPS.prob_grad_f64(n, uni, X, Y, W, P, keep, add, lo, hi, fl, sc, g)
        return LOOPS.prob_loss_grad_f64(n, uni, X, Y, W, P, keep, add, lo, hi, fl, sc, buf, g)
    else:
        # float32 logits in float arithmetic, except the hessian (cbce_elementwise.h, note C).
        if j.logits:
            if op == OP_LOSS:
                return LOOPS.logit_loss_f32(n, uni, X, Y, W, P, <float>keep, <float>add, buf)
            if op == OP_GRAD:
                return LOOPS.logit_grad_f32(n, uni, X, Y, W, P, <float>keep, <float>add,
                                           <float>sc, g)
            if op == OP_LOSS_GRAD:
                return LOOPS.logit_loss_grad_f32(n, uni, X, Y, W, P, <float>keep, <float>add,
                                                <float>sc, buf, g)
            return LOOPS.logit_grad_hess_f32d(n, uni, X, Y, W, P, keep, add, sc, g, h)
        if op == OP_LOSS:
            return LOOPS.prob_loss_f32(n, uni, X, Y, W, P, keep, add, lo, hi, buf)
        if op == OP_GRAD:
            return LOOPS.prob_grad_f32(n, uni, X, Y, W, P, keep, add, lo, hi, fl, sc, g)
        return LOOPS.prob_loss_grad_f32(n, uni, X, Y, W, P, keep, add, lo, hi, fl, sc, buf, g)


cdef int math_loop_focal(const Job* j, const floating* X, const floating* Y, const floating* W,
                         const floating* P, Py_ssize_t n, floating* g, floating* h,
                         double* buf) noexcept nogil:
    """Focal BCE of n elements (cbce_elementwise.h, notes E-G): math in double for both
    dtypes, outputs rounded once. Returns 1 if an element is invalid."""
    cdef double keep = j.keep, add = j.add, lo = j.lo, hi = j.hi, fl = j.floor, sc = j.scale
    cdef double gam = j.gamma, al = j.alpha
    cdef int op = j.op
    if floating is double:
        if j.logits:
            if op == OP_LOSS:
                return LOOPS.focal_logit_loss_f64(n, X, Y, W, P, keep, add, gam, al, buf)
            if op == OP_GRAD:
                return LOOPS.focal_logit_grad_f64(n, X, Y, W, P, keep, add, gam, al, sc, g)
            if op == OP_LOSS_GRAD:
                return LOOPS.focal_logit_loss_grad_f64(n, X, Y, W, P, keep, add, gam, al, sc,
                                                      buf, g)
            return LOOPS.focal_logit_grad_hess_f64(n, X, Y, W, P, keep, add, gam, al, sc, g, h)
        if op == OP_LOSS:
            return LOOPS.focal_prob_loss_f64(n, X, Y, W, P, keep, add, lo, hi, gam, al, buf)
        if op == OP_GRAD:
            return LOOPS.focal_prob_grad_f64(n, X, Y, W, P, keep, add, lo, hi, gam, al, fl, sc, g)
        return LOOPS.focal_prob_loss_grad_f64(n, X, Y, W, P, keep, add, lo, hi, gam, al, fl, sc,
                                             buf, g)
    else:
        if j.logits:
            if op == OP_LOSS:
                return LOOPS.focal_logit_loss_f32(n, X, Y, W, P, keep, add, gam, al, buf)
            if op == OP_GRAD:
                return LOOPS.focal_logit_grad_f32(n, X, Y, W, P, keep, add, gam, al, sc, g)
            if op == OP_LOSS_GRAD:
                return LOOPS.focal_logit_loss_grad_f32(n, X, Y, W, P, keep, add, gam, al, sc,
                                                      buf, g)
            return LOOPS.focal_logit_grad_hess_f32(n, X, Y, W, P, keep, add, gam, al, sc, g, h)
        if op == OP_LOSS:
            return LOOPS.focal_prob_loss_f32(n, X, Y, W, P, keep, add, lo, hi, gam, al, buf)
        if op == OP_GRAD:
            return LOOPS.focal_prob_grad_f32(n, X, Y, W, P, keep, add, lo, hi, gam, al, fl, sc, g)
        return LOOPS.focal_prob_loss_grad_f32(n, X, Y, W, P, keep, add, lo, hi, gam, al, fl, sc,
                                             buf, g)


def run_focal_f64(int op, bint logits, int reduction,
                  const double[:, :] x, const double[:, :] y, const double[:, :] w,
                  const double[:, :] pw, double[::1] loss_out, double[::1] grad_out,
                  double[::1] hess_out, double label_smoothing, double lo, double hi,
                  double floor, int n_threads, double gamma, double alpha):
    """run_f64 with focal gamma >= 0 and alpha in [0, 1] (< 0: None); not both default."""
    return _entry(op, logits, reduction, x, y, w, pw, loss_out, grad_out, hess_out,
                  label_smoothing, lo, hi, floor, n_threads, gamma, alpha)


def run_focal_f32(int op, bint logits, int reduction,
                  const float[:, :] x, const float[:, :] y, const float[:, :] w,
                  const float[:, :] pw, float[::1] loss_out, float[::1] grad_out,
                  float[::1] hess_out, double label_smoothing, double lo, double hi,
                  double floor, int n_threads, double gamma, double alpha):
    """run_f32 with focal options (math in float64, outputs rounded once to float32)."""
    return _entry(op, logits, reduction, x, y, w, pw, loss_out, grad_out, hess_out,
                  label_smoothing, lo, hi, floor, n_threads, gamma, alpha)


cdef void run_block(const Job* j, Py_ssize_t b, void* workspace, floating tag) noexcept nogil:
    """Block b (Note B): contiguous inputs, the math, then its flag and loss partial.

    The element loops run on multiples of TAIL elements only: the array's last n % TAIL
    elements go through padded tiles. The compiled loops then compute every element
    in their vector body, never in a remainder loop, whose multiply-adds the compiler may
    contract differently: an element's result does not depend on its place in the array (a Dask
    chunk, a slice or an offset view gives the same bits)."""
    cdef double* buf = <double*>workspace
    cdef floating* tiles = <floating*>(buf + BLOCK)
    cdef floating* tail = tiles + 4 * BLOCK
    cdef Py_ssize_t start = b * BLOCK
    cdef Py_ssize_t n = j.n - start
    cdef Py_ssize_t k, m, r
    cdef bint uni = j.w.mode == SCALAR and j.pw.mode == SCALAR and not j.focal
    cdef const floating* X
    cdef const floating* Y
    cdef const floating* W
    cdef const floating* P
    cdef floating* g = NULL
    cdef floating* h = NULL
    cdef int bad = 0
    if n > BLOCK:
        n = BLOCK
    X = contiguous(&j.x, j, start, n, tiles)
    Y = contiguous(&j.y, j, start, n, tiles + BLOCK)
    if uni:
        # One sample weight and one pos_weight (the common case): no tiles to fill, and the
        # loops read them once (loops/loop_common.h, CBCE_FOR_WP).
        W = <const floating*>j.w.data
        P = <const floating*>j.pw.data
    else:
        W = contiguous(&j.w, j, start, n, tiles + 2 * BLOCK)
        P = contiguous(&j.pw, j, start, n, tiles + 3 * BLOCK)
    # Only the outputs this operation writes (a check job carries the call's pointers too).
    if j.grad_out != NULL and (j.op == OP_GRAD or j.op == OP_LOSS_GRAD or j.op == OP_GRAD_HESS):
        g = <floating*>j.grad_out + start
    if j.hess_out != NULL and j.op == OP_GRAD_HESS:
        h = <floating*>j.hess_out + start
    r = n % TAIL
    m = n - r
    if m > 0:
        bad = math_loop(j, X, Y, W, P, m, g, h, buf, uni)
    if r > 0:
        # Padded with valid values (x = 1/2, y = 0, weights 1); their results are dropped.
        for k in range(TAIL):
            tail[k] = X[m + k] if k < r else 0.5
            tail[TAIL + k] = Y[m + k] if k < r else 0.0
            if not uni:
                tail[2 * TAIL + k] = W[m + k] if k < r else 1.0
                tail[3 * TAIL + k] = P[m + k] if k < r else 1.0
        bad |= math_loop(j, tail, tail + TAIL, W if uni else tail + 2 * TAIL,
                         P if uni else tail + 3 * TAIL, TAIL,
                         tail + 4 * TAIL if g != NULL else NULL,
                         tail + 5 * TAIL if h != NULL else NULL, buf + m, uni)
        for k in range(r):
            if g != NULL:
                g[m + k] = tail[4 * TAIL + k]
            if h != NULL:
                h[m + k] = tail[5 * TAIL + k]
    j.bad[b] = bad
    if j.op == OP_LOSS or j.op == OP_LOSS_GRAD or j.op == OP_WSUM:
        if j.loss_out != NULL:
            for k in range(n):
                (<floating*>j.loss_out)[start + k] = <floating>buf[k]
        j.partial[b] = pairwise_sum(buf, n)


cdef Py_ssize_t first_invalid(const Job* j, Py_ssize_t b, floating tag) noexcept nogil:
    """Flat index of the first invalid element of block b (Note C), or -1."""
    cdef Job chk = j[0]
    cdef double dummy
    cdef floating tile[4]
    cdef Py_ssize_t i, end = (b + 1) * BLOCK
    chk.op = OP_CHECK
    if end > j.n:
        end = j.n
    for i in range(b * BLOCK, end):
        if math_loop(&chk, contiguous(&j.x, j, i, 1, tile), contiguous(&j.y, j, i, 1, tile + 1),
                     contiguous(&j.w, j, i, 1, tile + 2), contiguous(&j.pw, j, i, 1, tile + 3),
                     1, NULL, NULL, &dummy, False):
            return i
    return -1


# Set in a child process after fork (cbce/_dispatch.py registers the hook): GNU libgomp's thread
# pool does not survive fork, and a parallel region in the child would hang, so it runs serially.
cdef int _forked_child = 0


def _after_fork_in_child():
    global _forked_child
    _forked_child = 1


cdef int resolve_threads(Py_ssize_t n, int n_threads) noexcept nogil:
    cdef int nt = n_threads if n_threads > 0 else cbce_max_threads()
    cdef Py_ssize_t nb = (n + BLOCK - 1) // BLOCK
    if n < PARALLEL_MIN or nt < 1 or _forked_child:
        return 1
    if nt > nb:
        nt = <int>nb
    # A team far beyond the processors only costs (libgomp aborts the process when it cannot
    # create the threads, e.g. n_threads=40000); results do not depend on the team size.
    if nt > 4 * cbce_num_procs():
        nt = 4 * cbce_num_procs()
    return nt


cdef int run_job(Job* j, int n_threads, double* total, Py_ssize_t* bad_index,
                 floating tag) noexcept nogil:
    """Run every block; total = pairwise sum of block partials. Returns -1 if out of memory."""
    cdef Py_ssize_t nb = (j.n + BLOCK - 1) // BLOCK
    cdef Py_ssize_t b
    cdef int nt = resolve_threads(j.n, n_threads)
    cdef int failed = 0
    # Per-thread workspace: the loss buffer (doubles), four input tiles and the padded tail
    # (four inputs, two outputs; run_block).
    cdef size_t ws_bytes = BLOCK * sizeof(double) + (4 * BLOCK + 6 * TAIL) * sizeof(floating)
    cdef void* ws = NULL
    total[0] = 0.0
    bad_index[0] = -1
    if nb == 0:
        return 0
    j.partial = <double*>malloc(nb * sizeof(double))
    j.bad = <unsigned char*>malloc(nb * sizeof(unsigned char))
    if j.partial == NULL or j.bad == NULL:
        free(j.partial)
        free(j.bad)
        return -1
    if nt > 1:
        with parallel(num_threads=nt):
            ws = malloc(ws_bytes)
            for b in prange(nb, schedule="static"):
                if ws != NULL:
                    run_block(j, b, ws, tag)
                else:
                    j.bad[b] = 2               # not run: reported as MemoryError below
            free(ws)
        for b in range(nb):
            if j.bad[b] == 2:
                failed = 1
    else:
        ws = malloc(ws_bytes)
        if ws == NULL:
            failed = 1
        else:
            for b in range(nb):
                run_block(j, b, ws, tag)
            free(ws)
    if failed:
        free(j.partial)
        free(j.bad)
        j.partial = NULL
        j.bad = NULL
        return -1
    if j.op == OP_LOSS or j.op == OP_LOSS_GRAD or j.op == OP_WSUM:
        total[0] = pairwise_sum(j.partial, nb)     # only these jobs write partials
    for b in range(nb):
        if j.bad[b]:
            bad_index[0] = first_invalid(j, b, tag)
            break
    free(j.partial)
    free(j.bad)
    j.partial = NULL
    j.bad = NULL
    return 0


cdef Operand _operand2d(const char* data, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t rows,
                       Py_ssize_t cols, Py_ssize_t itemsize) noexcept nogil:
    cdef Operand o
    o.data = <char*>data
    o.s0 = s0
    o.s1 = s1
    if (s1 == itemsize or cols == 1) and (s0 == cols * itemsize or rows == 1):
        o.mode = CONTIGUOUS
    elif (s0 == 0 or rows == 1) and (s1 == 0 or cols == 1):
        o.mode = SCALAR
    else:
        o.mode = STRIDED
    return o


cdef void _tile_if_output(Operand* o, const Job* j) noexcept nogil:
    if o.mode == CONTIGUOUS and (o.data == j.grad_out or o.data == j.hess_out):
        o.mode = STRIDED


cdef object _entry(int op, bint logits, int reduction,
                   const floating[:, :] x, const floating[:, :] y,
                   const floating[:, :] w, const floating[:, :] pw,
                   floating[::1] loss_out, floating[::1] grad_out, floating[::1] hess_out,
                   double label_smoothing, double lo, double hi, double floor, int n_threads,
                   double gamma=0.0, double alpha=-1.0):
    cdef Job j
    cdef double value
    cdef Py_ssize_t bad_index = -1, n = x.shape[0] * x.shape[1], rows, cols, isz
    cdef floating tag = 0
    cdef const floating* one
    cdef int rc = 0
    cdef bint has_w = w is not None
    if floating is float:
        one = <const floating*>&_ONE_F
    else:
        one = <const floating*>&_ONE_D

    j.op = op
    j.logits = logits
    j.n = n
    j.cols = x.shape[1]
    j.keep = 1.0 - label_smoothing
    j.add = 0.5 * label_smoothing
    j.lo = lo
    j.hi = hi
    j.floor = floor
    j.scale = 1.0
    j.focal = gamma != 0.0 or alpha >= 0.0
    j.gamma = gamma
    j.alpha = alpha
    j.loss_out = j.grad_out = j.hess_out = NULL
    j.partial = NULL
    j.bad = NULL
    if n == 0:
        value = 0.0
        if reduction == RED_MEAN or reduction == RED_WEIGHTED_MEAN:
            value = NAN
        return value, -1

    rows = x.shape[0]
    cols = x.shape[1]
    isz = sizeof(floating)
    j.x = _operand2d(<const char*>&x[0, 0], x.strides[0], x.strides[1], rows, cols, isz)
    j.y = _operand2d(<const char*>&y[0, 0], y.strides[0], y.strides[1], rows, cols, isz)
    if w is None:
        j.w = _operand2d(<const char*>one, 0, 0, rows, cols, isz)
    else:
        j.w = _operand2d(<const char*>&w[0, 0], w.strides[0], w.strides[1], rows, cols, isz)
    if pw is None:
        j.pw = _operand2d(<const char*>one, 0, 0, rows, cols, isz)
    else:
        j.pw = _operand2d(<const char*>&pw[0, 0], pw.strides[0], pw.strides[1], rows, cols, isz)
    if loss_out is not None:
        j.loss_out = <char*>&loss_out[0]
    if grad_out is not None:
        j.grad_out = <char*>&grad_out[0]
    if hess_out is not None:
        j.hess_out = <char*>&hess_out[0]
    with nogil:
        rc = run_reduced(&j, reduction, n_threads, has_w, &value, &bad_index, tag)
    if rc != 0:
        raise MemoryError()
    return value, bad_index


cdef int run_reduced(Job* j, int reduction, int n_threads, bint has_w, double* value,
                     Py_ssize_t* bad_index, floating tag) noexcept nogil:
    """Run job j with its reduction: the weighted_mean divisor first, then the pass. value gets
    the reduced loss. Returns 0, or -1 if out of memory. Shared by the Python entry points and
    the C API."""
    cdef double total = 0.0, wsum = <double>j.n
    cdef int rc = 0, op = j.op
    # An input that is an output too (in-place gradient: the facade and the C API allow only
    # the exact same array) is read through a tile, so the vectorized loop never reads what it
    # just wrote.
    _tile_if_output(&j.x, j)
    _tile_if_output(&j.y, j)
    _tile_if_output(&j.w, j)
    _tile_if_output(&j.pw, j)
    # The divisor of "weighted_mean" is sum(w broadcast to x.shape), summed like the loss
    # (Note B); it is needed before the pass because it scales the gradient.
    if reduction == RED_WEIGHTED_MEAN and has_w:
        j.op = OP_WSUM
        rc = run_job(j, n_threads, &wsum, bad_index, tag)
        j.op = op
    if reduction == RED_MEAN:
        j.scale = 1.0 / <double>j.n
    elif reduction == RED_WEIGHTED_MEAN:
        j.scale = 1.0 / wsum
    if rc == 0:
        rc = run_job(j, n_threads, &total, bad_index, tag)
    if reduction == RED_MEAN:
        value[0] = total / <double>j.n
    elif reduction == RED_WEIGHTED_MEAN:
        value[0] = total / wsum
    else:
        value[0] = total
    return rc


def run_f64(int op, bint logits, int reduction,
            const double[:, :] x, const double[:, :] y, const double[:, :] w,
            const double[:, :] pw, double[::1] loss_out, double[::1] grad_out,
            double[::1] hess_out, double label_smoothing, double lo, double hi, double floor,
            int n_threads):
    """float64 entry point; returns (reduced loss, first invalid flat index or -1)."""
    return _entry(op, logits, reduction, x, y, w, pw, loss_out, grad_out, hess_out,
                  label_smoothing, lo, hi, floor, n_threads)


def run_f32(int op, bint logits, int reduction,
            const float[:, :] x, const float[:, :] y, const float[:, :] w,
            const float[:, :] pw, float[::1] loss_out, float[::1] grad_out,
            float[::1] hess_out, double label_smoothing, double lo, double hi, double floor,
            int n_threads):
    """float32 entry point (math in float64, outputs rounded once to float32)."""
    return _entry(op, logits, reduction, x, y, w, pw, loss_out, grad_out, hess_out,
                  label_smoothing, lo, hi, floor, n_threads)


# The x86 features cbce_cpu_has reports, in its order (src/cpu_dispatch.h).
CPU_FEATURES = ("sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx2", "fma", "bmi", "bmi2",
                "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")


def _built_targets():
    """Names of the loop tables built into this module, baseline first."""
    names = []
    cdef Py_ssize_t i = 0
    while cbce_built_tables[i] != NULL:
        names.append(cbce_built_tables[i].name.decode())
        i += 1
    return tuple(names)


TARGETS = _built_targets()
VARIANT = LOOPS.name.decode()


def _select_target(str name):
    """Run every element loop through target `name`'s table from now on (cbce/_dispatch.py calls
    it once, at import, after checking that this CPU runs it)."""
    global LOOPS, VARIANT
    cdef bytes b = name.encode()
    cdef const cbce_loop_table* t = cbce_find_table(b)
    if t == NULL:
        raise ValueError(f"no {name!r} loops in this build (built: {TARGETS})")
    LOOPS = t
    VARIANT = name
    _api_table.kernel_variant = t.name


def cpu_features():
    """The x86 features that decide the target (all False elsewhere)."""
    return {name: bool(cbce_cpu_has(i)) for i, name in enumerate(CPU_FEATURES)}


def max_threads():
    """OpenMP's default team size now (OMP_NUM_THREADS, threadpoolctl limits), 1 without it."""
    return cbce_max_threads()


MATH_HELPERS = ("exp_nonpos", "log", "log1p", "log1p_01", "recip12", "exp_nonpos_f",
                "log1p_01_f", "recip12_f", "log_f", "log1p_f")     # CBCE_MATH_* order


def math_eval(str name, const double[::1] x, double[::1] out, target=None):
    """Evaluate one helper of cbce_math.h element-wise (for tests/test_math.py): "exp_nonpos",
    "log", "log1p", "log1p_01", "recip12", or the float32 helpers "exp_nonpos_f", "log1p_01_f",
    "recip12_f", "log_f", "log1p_f" (x rounded to float32 first, results widened), in a loop
    compiled like the element loops of `target` (default: the one in use). The caller makes
    sure that this CPU runs `target`."""
    cdef Py_ssize_t n = x.shape[0]
    cdef const cbce_loop_table* t = LOOPS
    cdef bytes b
    cdef int which
    if out.shape[0] != n:
        raise ValueError("out must have the length of x")
    if name not in MATH_HELPERS:
        raise ValueError(f"unknown helper {name!r}")
    which = MATH_HELPERS.index(name)
    if target is not None:
        b = str(target).encode()
        t = cbce_find_table(b)
        if t == NULL:
            raise ValueError(f"no {target!r} loops in this build (built: {TARGETS})")
    if n > 0:
        with nogil:
            t.math_eval(which, n, &x[0], &out[0])
    return out


# ---------------------------------------------------------------------------------------------
# The C API (cbce/include/cbce.h): the same jobs over flat pointers, errors as return codes.
# cbce/__init__.py publishes it as cbce._C_API; kernel_variant names the loop table in use.

from libc.stddef cimport ptrdiff_t
from cpython.pycapsule cimport PyCapsule_New

cdef extern from "cbce.h":
    ctypedef struct cbce_options:
        int from_logits
        int reduction
        double label_smoothing
        double eps
        int n_threads
    ctypedef int (*cbce_run_f64_t)(int, const double*, const double*, ptrdiff_t, const double*,
                                   ptrdiff_t, const double*, ptrdiff_t, const cbce_options*,
                                   double*, double*, double*, double*, ptrdiff_t*) noexcept nogil
    ctypedef int (*cbce_run_f32_t)(int, const float*, const float*, ptrdiff_t, const float*,
                                   ptrdiff_t, const float*, ptrdiff_t, const cbce_options*,
                                   double*, float*, float*, float*, ptrdiff_t*) noexcept nogil
    ctypedef struct cbce_api_table:
        unsigned int abi_version
        unsigned int table_size
        const char* version
        const char* kernel_variant
        cbce_run_f64_t run_f64
        cbce_run_f32_t run_f32
    int CBCE_ABI_VERSION
    int CBCE_OK, CBCE_ERR_ARGUMENT, CBCE_ERR_Y_TRUE, CBCE_ERR_Y_PRED, CBCE_ERR_MEMORY


cdef int _capi_run(int op, const floating* y, const floating* x, Py_ssize_t n,
                   const floating* w, Py_ssize_t sw, const floating* pw, Py_ssize_t spw,
                   const cbce_options* options, double* loss, floating* loss_out,
                   floating* grad_out, floating* hess_out, Py_ssize_t* bad_index) noexcept nogil:
    """Validate like the facade (as return codes), build the job, run it."""
    cdef Job j
    cdef cbce_options o
    cdef Py_ssize_t bad = -1, isz = sizeof(floating)
    cdef double value = 0.0, ls, eps
    cdef floating tag = 0
    cdef floating yv
    cdef const floating* one
    cdef bint logits
    cdef int rc
    if floating is float:
        one = <const floating*>&_ONE_F
    else:
        one = <const floating*>&_ONE_D
    if options == NULL:
        o.from_logits = 0
        o.reduction = RED_MEAN
        o.label_smoothing = 0.0
        o.eps = 0.0
        o.n_threads = 0
    else:
        o = options[0]
    if bad_index != NULL:
        bad_index[0] = -1
    ls = o.label_smoothing
    logits = op == OP_GRAD_HESS or o.from_logits != 0
    eps = 0.0 if op == OP_GRAD_HESS else o.eps
    if (n < 0 or op < OP_LOSS or op > OP_GRAD_HESS or o.reduction < RED_NONE
            or o.reduction > RED_WEIGHTED_MEAN or not (ls >= 0.0 and ls <= 1.0)
            or (eps != 0.0 and (logits or not (eps > 0.0 and eps < 0.5)))):
        return CBCE_ERR_ARGUMENT
    if n > 0 and (y == NULL or x == NULL):
        return CBCE_ERR_ARGUMENT
    if (op != OP_LOSS and grad_out == NULL) or (op == OP_GRAD_HESS and hess_out == NULL):
        return CBCE_ERR_ARGUMENT
    if n == 0:
        if loss != NULL:
            loss[0] = NAN if o.reduction == RED_MEAN or o.reduction == RED_WEIGHTED_MEAN else 0.0
        return CBCE_OK

    j.op = op
    j.logits = logits
    j.n = n
    j.cols = n
    j.keep = 1.0 - ls
    j.add = 0.5 * ls
    # Clip bounds in the input's type, as the facade (and np.clip(p, eps, 1 - eps)) does.
    if eps == 0.0:
        j.lo = 0.0
        j.hi = 1.0
    elif floating is float:
        j.lo = <float>eps
        j.hi = <float>(<float>1.0 - <float>eps)
    else:
        j.lo = eps
        j.hi = 1.0 - eps
    j.floor = <double><float>1e-12          # PyTorch's EPSILON, a float32 constant
    j.scale = 1.0
    j.focal = 0                # the C API has no focal options
    j.partial = NULL
    j.bad = NULL
    j.x = _operand2d(<const char*>x, 0, isz, 1, n, isz)
    j.y = _operand2d(<const char*>y, 0, isz, 1, n, isz)
    if w == NULL:
        j.w = _operand2d(<const char*>one, 0, 0, 1, n, isz)
    else:
        j.w = _operand2d(<const char*>w, 0, sw * isz, 1, n, isz)
    if pw == NULL:
        j.pw = _operand2d(<const char*>one, 0, 0, 1, n, isz)
    else:
        j.pw = _operand2d(<const char*>pw, 0, spw * isz, 1, n, isz)
    j.loss_out = <char*>loss_out if op == OP_LOSS or op == OP_LOSS_GRAD else NULL
    j.grad_out = <char*>grad_out
    j.hess_out = <char*>hess_out

    if (<const void*>grad_out == <const void*>x or <const void*>grad_out == <const void*>y
            or <const void*>hess_out == <const void*>x or <const void*>hess_out == <const void*>y):
        # In place: check every value before the first write, so an error leaves inputs intact.
        j.op = OP_CHECK
        rc = run_job(&j, o.n_threads, &value, &bad, tag)
        j.op = op
        if rc != 0:
            return CBCE_ERR_MEMORY
    if bad < 0:
        if run_reduced(&j, o.reduction, o.n_threads, w != NULL, &value, &bad, tag) != 0:
            return CBCE_ERR_MEMORY
    if bad >= 0:
        if bad_index != NULL:
            bad_index[0] = bad
        yv = y[bad]
        return CBCE_ERR_Y_TRUE if not (yv >= 0.0 and yv <= 1.0) else CBCE_ERR_Y_PRED
    if loss != NULL:
        loss[0] = value
    return CBCE_OK


cdef int capi_run_f64(int op, const double* y, const double* x, ptrdiff_t n, const double* w,
                      ptrdiff_t sw, const double* pw, ptrdiff_t spw, const cbce_options* options,
                      double* loss, double* loss_out, double* grad_out, double* hess_out,
                      ptrdiff_t* bad_index) noexcept nogil:
    return _capi_run(op, y, x, n, w, sw, pw, spw, options, loss, loss_out, grad_out, hess_out,
                     <Py_ssize_t*>bad_index)


cdef int capi_run_f32(int op, const float* y, const float* x, ptrdiff_t n, const float* w,
                      ptrdiff_t sw, const float* pw, ptrdiff_t spw, const cbce_options* options,
                      double* loss, float* loss_out, float* grad_out, float* hess_out,
                      ptrdiff_t* bad_index) noexcept nogil:
    return _capi_run(op, y, x, n, w, sw, pw, spw, options, loss, loss_out, grad_out, hess_out,
                     <Py_ssize_t*>bad_index)


cdef cbce_api_table _api_table
cdef bytes _api_version = b"unknown"
_api_table.abi_version = CBCE_ABI_VERSION
_api_table.table_size = sizeof(cbce_api_table)
_api_table.version = _api_version
_api_table.kernel_variant = LOOPS.name
_api_table.run_f64 = capi_run_f64
_api_table.run_f32 = capi_run_f32
_C_API = PyCapsule_New(<void*>&_api_table, b"cbce._C_API", NULL)
C_ABI_VERSION = CBCE_ABI_VERSION


def _set_api_version(str version):
    """Record cbce.__version__ in the C API table (called once by cbce/__init__.py)."""
    global _api_version
    _api_version = version.encode()
    _api_table.version = _api_version


# ---------------------------------------------------------------------------------------------
# The facade's fast path: the common call's checks in C, then the C API's
# job through raw data pointers, skipping the typed memoryviews' buffer acquisition (~0.2 us
# each) and the Python-level checks (~1.1 us), which dominate a call on 10 elements.

cimport numpy as cnp
cnp.import_array()


cdef inline bint _plain(object a, int typenum):
    """An exact ndarray of this type, native byte order, C-contiguous and aligned."""
    if not cnp.PyArray_CheckExact(a):
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    return (cnp.PyArray_TYPE(arr) == typenum and cnp.PyArray_ISNOTSWAPPED(arr)
            and cnp.PyArray_IS_C_CONTIGUOUS(arr) and cnp.PyArray_ISALIGNED(arr))


cdef inline bint _overlap(const char* a, const char* b, Py_ssize_t nbytes) noexcept nogil:
    return a < b + nbytes and b < a + nbytes


def fast(int op, object y_true, object y_pred, object from_logits, object label_smoothing,
         object eps, object reduction, object n_threads, dict outs):
    """The facade's common call with every check in C: y_pred and y_true
    exact ndarrays of float32 or float64, one dtype, one shape, C-contiguous, aligned, native
    byte order; no weights; plain option types; caller outputs (outs: name -> (array or None,
    argument name)) of the same kind, writeable, each either one of the inputs exactly or
    apart from every other operand. Returns (value, results, first invalid flat index or -1),
    or None for anything else: the general path then runs, with its full checks and messages."""
    cdef int typenum, red, nt
    cdef double ls, e
    cdef Py_ssize_t n, nbytes, bad = -1
    cdef cnp.ndarray x, y, arr
    cdef cbce_options o
    cdef double value = 0.0
    cdef int rc
    cdef const char* ptrs[5]
    cdef int np_ = 2, i, k
    cdef void* lp = NULL
    cdef void* gp = NULL
    cdef void* hp = NULL
    if not cnp.PyArray_CheckExact(y_pred):
        return None
    x = <cnp.ndarray>y_pred
    typenum = cnp.PyArray_TYPE(x)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        return None
    if not (_plain(y_pred, typenum) and _plain(y_true, typenum)):
        return None
    y = <cnp.ndarray>y_true
    if not cnp.PyArray_SAMESHAPE(x, y):
        return None
    if from_logits is not True and from_logits is not False:
        return None
    if type(reduction) is not str or reduction not in REDUCTIONS:
        return None
    red = REDUCTIONS[reduction]
    if n_threads is None:
        nt = 0
    elif type(n_threads) is int and 0 < n_threads <= 2**31 - 1:
        nt = n_threads
    else:
        return None
    if type(label_smoothing) is not float and type(label_smoothing) is not int:
        return None
    if not (0 <= label_smoothing <= 1):           # (as objects: a huge int is no overflow)
        return None
    ls = label_smoothing
    if eps is None:
        e = 0.0
    elif type(eps) is float and 0.0 < eps < 0.5 and from_logits is False:
        e = eps
    else:
        return None
    n = cnp.PyArray_SIZE(x)
    nbytes = n * cnp.PyArray_ITEMSIZE(x)
    ptrs[0] = <const char*>cnp.PyArray_DATA(x)
    ptrs[1] = <const char*>cnp.PyArray_DATA(y)
    results = {}
    for name, spec in outs.items():
        a = spec[0]
        if a is None:
            arr = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), typenum, 0)
        else:
            if not _plain(a, typenum) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
                return None
            arr = <cnp.ndarray>a
            if not cnp.PyArray_SAMESHAPE(x, arr):
                return None
            # One of the inputs exactly (in place: checked before the first write), or apart
            # from the inputs and from the other outputs; anything else takes the general path.
            for i in range(np_):
                if (_overlap(<const char*>cnp.PyArray_DATA(arr), ptrs[i], nbytes) and
                        (i >= 2 or <const char*>cnp.PyArray_DATA(arr) != ptrs[i])):
                    return None
            if np_ < 5:
                ptrs[np_] = <const char*>cnp.PyArray_DATA(arr)
                np_ += 1
        results[name] = arr
        if name == "loss":
            lp = cnp.PyArray_DATA(arr)
        elif name == "grad":
            gp = cnp.PyArray_DATA(arr)
        else:
            hp = cnp.PyArray_DATA(arr)
    o.from_logits = from_logits is True
    o.reduction = red
    o.label_smoothing = ls
    o.eps = e
    o.n_threads = nt
    with nogil:
        if typenum == cnp.NPY_DOUBLE:
            rc = _capi_run(op, <const double*>ptrs[1], <const double*>ptrs[0], n,
                           <const double*>NULL, 0, <const double*>NULL, 0, &o, &value,
                           <double*>lp, <double*>gp, <double*>hp, &bad)
        else:
            rc = _capi_run(op, <const float*>ptrs[1], <const float*>ptrs[0], n,
                           <const float*>NULL, 0, <const float*>NULL, 0, &o, &value,
                           <float*>lp, <float*>gp, <float*>hp, &bad)
    if rc == CBCE_ERR_MEMORY:
        raise MemoryError()
    if rc == CBCE_ERR_ARGUMENT:
        raise AssertionError("fast: arguments the facade should have rejected")
    return value, results, bad
