# Included by src/_kernels.pyx after _kernels_impl.pxi: the multi-class kernels share its loop
# table, fork hook, thread rules and pairwise_sum.
"""Softmax cross-entropy kernels: one row (sample) of C logits at a time, blocked and threaded
like the BCE loops (Notes B and C of _kernels_impl.pxi), facade in cbce/_multiclass.py.

Design notes
H. Operands. The facade moves the class axis last and views every operand on a common 2-D grid
   of samples (rows, cols) without copying: logits, probability targets and the gradient output
   as (rows, cols, C) strided views, class indices and sample weights as (rows, cols). A row whose
   classes are contiguous is used in place, any other is gathered into a per-thread tile (e.g.
   (N, C, H, W) with the class axis 1: classes H*W apart); a gradient row is scattered back.
I. One row. With m = max x_c, e_c = exp(x_c - m), target weights a_c = cw_c*t_c (t the smoothed
   target: (1-ls)*onehot + ls/C for indices, PyTorch's rule), W = sum a_c:
     loss = W*log S + sum_c a_c*(m - x_c)      S = sum e_c = 1 + S', S' the sum without one top
     grad_c = W*e_c/S - a_c                     (d loss/d x_c: softmax*W - a; = softmax - y)
   Every loss term is >= 0, so nothing cancels: a dominant class at margin 40 costs
   log1p(e^-40) = 4.2e-18, not 0 (S' keeps the small terms that 1 + S' would round away), and
   CE([0, x]) over two classes is BCE(x) to the last bits. For an element at the maximum (e = 1)
   grad = ((W - a) - a*S')/S: with a one-hot target there W - a = 0 exactly and the gradient
   -a*S'/S keeps its digits, as BCE's -sigma(-x) does (W/S - a would round to 0).
   Three sweeps over the row, all in L1: max; exp (stored, one exp per element) and the
   summands; gradient. Memory sees one read of the logits and one write of the gradient.
J. Sums in a fixed order. The element loops are C with `#pragma omp simd` (src/loops/softmax.h,
   as src/loops/); none reduces in floating point, which would reorder the sum (and GCC
   vectorizes none without -fassociative-math): the exp sweep writes its summands to tiles and
   pairwise_sum adds them (8 running sums). The max is exact in any order.
K. Blocks of samples: SB = clamp(65536 // C, 16, 2048) samples, fixed by C alone, so the reduced
   loss is bitwise the same for every thread count and layout. Reductions divide by D: "mean"
   PyTorch's (sum over kept targets of cw[y] for indices, the sample count for probabilities),
   "weighted_mean" with sample_weight in D too. D depends on the targets and scales the
   gradient, so a pre-pass over the targets (not the logits) sums it first, in the same blocks.
M. Few classes (C <= CE_SMALL_C): a row of 10 is too short for vector loops (190 ns per row at
   C = 10, mostly loop prologues and epilogues), so chunks of CE_SMALL_ROWS rows are transposed
   into tiles and the same math runs across rows, one class at a time: lanes are samples, and
   each sample's sums run over its classes in class order. The path depends on C alone, so
   results stay independent of threads and layout.
L. Non-finite logits: -inf (a masked class) gives e = 0 and, with a zero target, no loss term
   (a = 0 contributes 0, not 0*inf); a row with +inf or NaN gives NaN (m - m is added to S').
"""
# The element loops of Notes I and M run through the loop table in use (LOOPS, Note E of
# _kernels_impl.pxi; src/loops/softmax.h).

cdef enum:
    CE_SB_ELEMENTS = 65536     # Note K: samples per block = clamp(this // C, 16, 2048)
    CE_SB_MIN = 16
    CE_SB_MAX = 2048
    CE_OP_LOSS = 0
    CE_OP_GRAD = 1
    CE_OP_LOSS_GRAD = 2
    CE_OP_DIVISOR = 3          # pre-pass: per-sample divisor terms (Note K) and target checks
    CE_SMALL_C = 16            # Note M: up to this many classes, rows are transposed in chunks
    CE_SMALL_ROWS = 128        # rows per chunk: 3 tiles of 16 x 128 doubles stay in L1 + L2

CE_OPS = {"loss": CE_OP_LOSS, "grad": CE_OP_GRAD, "loss_grad": CE_OP_LOSS_GRAD}


cdef struct CEJob:
    int op
    bint indices               # targets are class indices (else probabilities)
    bint check_probs           # the pre-pass checks probability targets too (in-place gradient)
    bint wmean                 # divisor includes sample weights ("weighted_mean")
    Py_ssize_t n, cols, C, sb  # samples, grid columns, classes, samples per block
    const char* x              # logits (rows, cols, C)
    Py_ssize_t xs0, xs1, xsc
    bint x_tile                # read x rows through a tile: the gradient output is x itself
    const char* y              # probability targets (rows, cols, C), or NULL
    Py_ssize_t ys0, ys1, ysc
    const char* t              # int64 class indices (rows, cols), or NULL
    Py_ssize_t ts0, ts1
    const char* w              # sample weights (rows, cols), or NULL
    Py_ssize_t ws0, ws1
    const double* cw           # class weights (C), ones when not given
    double cwsum               # sum of cw (label smoothing with indices)
    char* loss_out             # per-sample losses, flat C order, or NULL
    char* grad_out             # gradient (rows, cols, C), or NULL
    Py_ssize_t gs0, gs1, gsc
    double keep, add           # t = y*keep + add (add = ls/C)
    bint has_ignore
    int64_t ignore
    double scale               # 1/D (or 1)
    double* partial            # per-block loss (or divisor) sums
    unsigned char* bad         # per-block validity flags


cdef double ce_row(const CEJob* j, const double* X, const double* Y, int64_t tgt,
                   double* G, double gs, double* ws) noexcept nogil:
    """Loss of one row (Note I) in double; if G is not NULL, gs * gradient written to G.
    X (and Y for probability targets) are contiguous doubles; ws is 4*C doubles of scratch."""
    cdef Py_ssize_t C = j.C
    cdef double* E = ws                 # e_c
    cdef double* Et = ws + C            # e_c, 0 at the maxima
    cdef double* A = ws + 2 * C         # a_c (probability targets)
    cdef double* L = ws + 3 * C         # a_c*(m - x_c)
    cdef const double* cw = j.cw
    cdef double keep = j.keep, add = j.add
    cdef double m = LOOPS.sm_row_max(C, X)
    cdef long long ties = LOOPS.sm_row_exp(C, X, m, E, Et)
    cdef double W, lt, at
    cdef double Sp = pairwise_sum(Et, C) + <double>(ties - 1) + (m - m)   # NaN for m = +inf
    cdef double logS = LOOPS.sm_log1p_pos(Sp)
    if j.indices:
        at = cw[tgt] * keep             # the target's own weight (a_t - cw_t*add)
        W = at + add * j.cwsum
        lt = 0.0 if at == 0.0 else at * (m - X[tgt])
        if add != 0.0:
            LOOPS.sm_row_smooth(C, X, cw, m, add, L)
            lt = lt + pairwise_sum(L, C)
        if G != NULL:
            LOOPS.sm_row_grad(C, X, E, NULL, cw, tgt, keep, add, m, W, Sp, gs, G)
    else:
        LOOPS.sm_row_targets(C, X, Y, cw, m, keep, add, A, L)
        W = pairwise_sum(A, C)
        lt = pairwise_sum(L, C)
        if G != NULL:
            LOOPS.sm_row_grad(C, X, E, A, cw, 0, keep, add, m, W, Sp, gs, G)
    return W * logS + lt


cdef inline const double* _row_in(const char* base, Py_ssize_t sc, bint force_tile, Py_ssize_t C,
                                  floating tag, double* tile) noexcept nogil:
    """Row of C elements at base (class stride sc bytes) as contiguous doubles (Note H)."""
    cdef Py_ssize_t c
    if floating is double:
        if sc == sizeof(double) and not force_tile:
            return <const double*>base
    for c in range(C):
        tile[c] = (<const floating*>(base + c * sc))[0]
    return tile


cdef int ce_block(const CEJob* j, Py_ssize_t b, void* workspace, floating tag) noexcept nogil:
    """Samples [b*sb, (b+1)*sb): losses (or divisor terms) summed into j.partial[b]; returns 1 if a
    target is invalid."""
    cdef Py_ssize_t C = j.C
    cdef double* buf = <double*>workspace          # sb per-sample values
    cdef double* xt = buf + j.sb                   # C: x tile
    cdef double* yt = xt + C                       # C: y tile
    cdef double* gt = yt + C                       # C: gradient row
    cdef double* ws = gt + C                       # 4C: ce_row scratch
    cdef Py_ssize_t start = b * j.sb, end = start + j.sb, i, k, r, col, c
    cdef const double* X
    cdef const double* Y = NULL
    cdef double* G
    cdef double s, yv, gs
    cdef int64_t tgt = 0
    cdef bint want_grad = j.op == CE_OP_GRAD or j.op == CE_OP_LOSS_GRAD
    cdef bint g_direct = False
    cdef floating* gp
    cdef int bad = 0, rowbad
    if j.C <= CE_SMALL_C and j.op != CE_OP_DIVISOR:
        return ce_block_small(j, b, workspace, tag)
    if floating is double:
        g_direct = j.gsc == sizeof(double)
    if end > j.n:
        end = j.n
    r = start // j.cols
    col = start % j.cols
    for i in range(start, end):
        k = i - start
        s = 1.0 if j.w == NULL else <double>(<const floating*>(j.w + r * j.ws0 + col * j.ws1))[0]
        rowbad = 0
        if j.indices:
            tgt = (<const int64_t*>(j.t + r * j.ts0 + col * j.ts1))[0]
            if j.has_ignore and tgt == j.ignore:
                tgt = -1                               # ignored: loss 0, gradient row 0
            elif tgt < 0 or tgt >= C:
                rowbad = 1
                tgt = -1
        elif j.op != CE_OP_DIVISOR or j.check_probs:
            Y = _row_in(j.y + r * j.ys0 + col * j.ys1, j.ysc, False, C, tag, yt)
            for c in range(C):
                yv = Y[c]
                rowbad |= (yv < 0.0) | (yv > 1.0) | (yv != yv)
        bad |= rowbad

        if j.op == CE_OP_DIVISOR:
            if j.indices:
                buf[k] = 0.0 if tgt < 0 else (s if j.wmean else 1.0) * j.cw[tgt]
            else:
                buf[k] = s if j.wmean else 1.0
        elif j.indices and tgt < 0:
            buf[k] = 0.0
            if want_grad:
                gp = <floating*>(j.grad_out + r * j.gs0 + col * j.gs1)
                for c in range(C):
                    (<floating*>(<char*>gp + c * j.gsc))[0] = 0.0
        else:
            X = _row_in(j.x + r * j.xs0 + col * j.xs1, j.xsc, j.x_tile, C, tag, xt)
            if want_grad:
                gp = <floating*>(j.grad_out + r * j.gs0 + col * j.gs1)
                G = <double*>gp if g_direct else gt
                gs = s * j.scale
                buf[k] = s * ce_row(j, X, Y, tgt, G, gs, ws)
                if not g_direct:
                    for c in range(C):
                        (<floating*>(<char*>gp + c * j.gsc))[0] = <floating>gt[c]
            else:
                buf[k] = s * ce_row(j, X, Y, tgt, NULL, 0.0, ws)
        col += 1
        if col == j.cols:
            col = 0
            r += 1
    if j.loss_out != NULL and j.op != CE_OP_DIVISOR:
        for i in range(start, end):
            (<floating*>j.loss_out)[i] = <floating>buf[i - start]
    j.partial[b] = pairwise_sum(buf, end - start)
    return bad


cdef int ce_block_small(const CEJob* j, Py_ssize_t b, void* workspace,
                        floating tag) noexcept nogil:
    """ce_block for C <= CE_SMALL_C (Note M): the row math of ce_row across CE_SMALL_ROWS rows."""
    cdef Py_ssize_t C = j.C, R = CE_SMALL_ROWS
    cdef double* buf = <double*>workspace          # sb per-sample losses
    cdef double* XT = buf + j.sb                   # C x R: logits, class-major
    cdef double* ET = XT + C * R                   # C x R: e, then the gradient
    cdef double* AT = ET + C * R                   # C x R: a (probability targets)
    cdef double* M = AT + C * R                    # R each:
    cdef double* SP = M + R                        # S' (Note I)
    cdef double* TI = SP + R                       # ties at the maximum, then 1/S
    cdef double* WW = TI + R                       # W
    cdef double* LT = WW + R                       # sum a*(m - x)
    cdef double* SW = LT + R                       # sample weight; then the gradient factor
    cdef double* KP = SW + R                       # 1 kept, 0 ignored
    cdef int64_t* T = <int64_t*>(KP + R)           # target (0 where ignored)
    cdef const double* cw = j.cw
    cdef double keep = j.keep, add = j.add, cwsum = j.cwsum, scale = j.scale
    cdef Py_ssize_t start = b * j.sb, end = start + j.sb, i0, i, c, nr, r, col, rs, cs
    cdef const char* p
    cdef floating* gp
    cdef double v, at
    cdef int64_t tg
    cdef bint kept
    cdef bint want_grad = j.op == CE_OP_GRAD or j.op == CE_OP_LOSS_GRAD
    cdef int bad = 0, rowbad
    if end > j.n:
        end = j.n
    r = start // j.cols
    col = start % j.cols
    i0 = start
    while i0 < end:
        nr = end - i0
        if nr > R:
            nr = R
        rs, cs = r, col
        for i in range(nr):                        # load (transposed), targets, checks
            p = j.x + r * j.xs0 + col * j.xs1
            for c in range(C):
                XT[c * R + i] = (<const floating*>(p + c * j.xsc))[0]
            SW[i] = 1.0 if j.w == NULL else <double>(<const floating*>(
                j.w + r * j.ws0 + col * j.ws1))[0]
            kept = 1
            rowbad = 0
            if j.indices:
                tg = (<const int64_t*>(j.t + r * j.ts0 + col * j.ts1))[0]
                if j.has_ignore and tg == j.ignore:
                    kept = 0
                elif tg < 0 or tg >= C:
                    rowbad = 1
                    kept = 0
                T[i] = tg if kept else 0
            else:
                p = j.y + r * j.ys0 + col * j.ys1
                for c in range(C):
                    v = (<const floating*>(p + c * j.ysc))[0]
                    rowbad |= (v < 0.0) | (v > 1.0) | (v != v)
                    AT[c * R + i] = v                  # cbce_sm_cols_targets makes it a_c
            KP[i] = 1.0 if kept else 0.0
            bad |= rowbad
            col += 1
            if col == j.cols:
                col = 0
                r += 1

        LOOPS.sm_cols_max(C, R, nr, XT, M)
        LOOPS.sm_cols_exp(C, R, nr, XT, M, ET, SP, TI)
        if j.indices:
            for i in range(nr):
                tg = T[i]
                at = cw[tg] * keep
                WW[i] = at + add * cwsum
                LT[i] = 0.0 if at == 0.0 else at * (M[i] - XT[tg * R + i])
            if add != 0.0:
                LOOPS.sm_cols_smooth(C, R, nr, XT, M, cw, add, LT)
        else:
            LOOPS.sm_cols_targets(C, R, nr, XT, M, cw, keep, add, AT, WW, LT)
        LOOPS.sm_cols_loss(nr, M, WW, LT, KP, scale, SP, TI, SW, buf + (i0 - start))
        if want_grad:
            LOOPS.sm_cols_grad(C, R, nr, XT, M, NULL if j.indices else AT, T, cw, keep, add,
                              WW, SP, TI, SW, KP, ET)
            for i in range(nr):                    # store (transposed back)
                gp = <floating*>(j.grad_out + rs * j.gs0 + cs * j.gs1)
                for c in range(C):
                    (<floating*>(<char*>gp + c * j.gsc))[0] = <floating>ET[c * R + i]
                cs += 1
                if cs == j.cols:
                    cs = 0
                    rs += 1
        i0 += nr
    if j.loss_out != NULL:
        for i in range(start, end):
            (<floating*>j.loss_out)[i] = <floating>buf[i - start]
    j.partial[b] = pairwise_sum(buf, end - start)
    return bad


cdef Py_ssize_t ce_first_invalid(const CEJob* j, Py_ssize_t b, floating tag) noexcept nogil:
    """Flat sample index of the first invalid target of block b (Note C), or -1."""
    cdef Py_ssize_t i, end = (b + 1) * j.sb, r, col, c
    cdef int64_t tgt
    cdef const floating* Y
    cdef double yv
    if end > j.n:
        end = j.n
    for i in range(b * j.sb, end):
        r = i // j.cols
        col = i % j.cols
        if j.indices:
            tgt = (<const int64_t*>(j.t + r * j.ts0 + col * j.ts1))[0]
            if not (j.has_ignore and tgt == j.ignore) and (tgt < 0 or tgt >= j.C):
                return i
        else:
            Y = <const floating*>(j.y + r * j.ys0 + col * j.ys1)
            for c in range(j.C):
                yv = (<const floating*>(<const char*>Y + c * j.ysc))[0]
                if not (0.0 <= yv <= 1.0):
                    return i
    return -1


cdef int ce_run(CEJob* j, int n_threads, double* total, Py_ssize_t* bad_index,
                floating tag) noexcept nogil:
    """Every block; total = pairwise sum of the block partials. -1 if out of memory."""
    cdef Py_ssize_t nb = (j.n + j.sb - 1) // j.sb
    cdef Py_ssize_t b
    cdef int nt = n_threads if n_threads > 0 else cbce_max_threads()
    cdef int failed = 0
    cdef size_t ws_bytes = (j.sb + 7 * j.C) * sizeof(double)
    if j.C <= CE_SMALL_C:
        ws_bytes = (j.sb + (3 * j.C + 9) * CE_SMALL_ROWS) * sizeof(double)
    cdef void* ws = NULL
    total[0] = 0.0
    bad_index[0] = -1
    if nb == 0:
        return 0
    if j.n * j.C < PARALLEL_MIN or nt < 1 or _forked_child:
        nt = 1
    if nt > nb:
        nt = <int>nb
    j.partial = <double*>malloc(nb * sizeof(double))
    j.bad = <unsigned char*>malloc(nb * sizeof(unsigned char))
    if j.partial == NULL or j.bad == NULL:
        free(j.partial)
        free(j.bad)
        j.partial = NULL
        j.bad = NULL
        return -1
    if nt > 1:
        with parallel(num_threads=nt):
            ws = malloc(ws_bytes)
            for b in prange(nb, schedule="static"):
                if ws != NULL:
                    j.bad[b] = ce_block(j, b, ws, tag)
                else:
                    j.bad[b] = 2
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
                j.bad[b] = ce_block(j, b, ws, tag)
            free(ws)
    if not failed:
        total[0] = pairwise_sum(j.partial, nb)
        for b in range(nb):
            if j.bad[b]:
                bad_index[0] = ce_first_invalid(j, b, tag)
                break
    free(j.partial)
    free(j.bad)
    j.partial = NULL
    j.bad = NULL
    return -1 if failed else 0


cdef object _ce_entry(int op, int reduction, const floating[:, :, :] x,
                      const floating[:, :, :] y, const int64_t[:, :] t,
                      const floating[:, :] w, const double[::1] cw,
                      floating[::1] loss_out, floating[:, :, :] grad_out,
                      double label_smoothing, bint has_ignore, int64_t ignore_index,
                      bint check_first, bint x_is_out, int n_threads):
    cdef CEJob j
    cdef double total = 0.0, divisor, value
    cdef Py_ssize_t bad_index = -1, c
    cdef Py_ssize_t rows = x.shape[0], cols = x.shape[1], C = x.shape[2]
    cdef Py_ssize_t n = rows * cols
    cdef floating tag = 0
    cdef int rc = 0
    cdef bint need_divisor
    cdef double* ones = NULL

    if n == 0:
        value = 0.0
        if reduction == RED_MEAN or reduction == RED_WEIGHTED_MEAN:
            value = NAN
        return value, -1
    j.op = op
    j.indices = t is not None
    j.check_probs = check_first
    j.wmean = reduction == RED_WEIGHTED_MEAN
    j.n = n
    j.cols = cols
    j.C = C
    j.sb = CE_SB_ELEMENTS // C
    j.sb = CE_SB_MIN if j.sb < CE_SB_MIN else (CE_SB_MAX if j.sb > CE_SB_MAX else j.sb)
    j.x = <const char*>&x[0, 0, 0]
    j.xs0, j.xs1, j.xsc = x.strides[0], x.strides[1], x.strides[2]
    j.x_tile = x_is_out
    j.y = NULL
    j.ys0 = j.ys1 = j.ysc = 0
    if y is not None:
        j.y = <const char*>&y[0, 0, 0]
        j.ys0, j.ys1, j.ysc = y.strides[0], y.strides[1], y.strides[2]
    j.t = NULL
    j.ts0 = j.ts1 = 0
    if t is not None:
        j.t = <const char*>&t[0, 0]
        j.ts0, j.ts1 = t.strides[0], t.strides[1]
    j.w = NULL
    j.ws0 = j.ws1 = 0
    if w is not None:
        j.w = <const char*>&w[0, 0]
        j.ws0, j.ws1 = w.strides[0], w.strides[1]
    if cw is None:
        ones = <double*>malloc(C * sizeof(double))
        if ones == NULL:
            raise MemoryError()
        for c in range(C):
            ones[c] = 1.0
        j.cw = ones
    else:
        j.cw = &cw[0]
    j.cwsum = pairwise_sum(j.cw, C)
    j.loss_out = NULL if loss_out is None else <char*>&loss_out[0]
    j.grad_out = NULL
    j.gs0 = j.gs1 = j.gsc = 0
    if grad_out is not None:
        j.grad_out = <char*>&grad_out[0, 0, 0]
        j.gs0, j.gs1, j.gsc = grad_out.strides[0], grad_out.strides[1], grad_out.strides[2]
    j.keep = 1.0 - label_smoothing
    j.add = label_smoothing / <double>C
    j.has_ignore = has_ignore
    j.ignore = ignore_index
    j.scale = 1.0
    j.partial = NULL
    j.bad = NULL

    # Note K: the divisor is the sample count unless targets or weights enter it.
    need_divisor = check_first or (
        (reduction == RED_MEAN and j.indices and (cw is not None or has_ignore))
        or (reduction == RED_WEIGHTED_MEAN and (w is not None or (j.indices and
                                                                  (cw is not None or has_ignore)))))
    with nogil:
        divisor = <double>n
        if need_divisor:
            j.op = CE_OP_DIVISOR
            rc = ce_run(&j, n_threads, &divisor, &bad_index, tag)
            j.op = op
            if reduction != RED_MEAN and reduction != RED_WEIGHTED_MEAN:
                divisor = 1.0
            elif reduction == RED_MEAN and not j.indices:
                divisor = <double>n
        if reduction == RED_MEAN or reduction == RED_WEIGHTED_MEAN:
            j.scale = 1.0 / divisor
        if rc == 0 and bad_index < 0:
            rc = ce_run(&j, n_threads, &total, &bad_index, tag)
    free(ones)
    if rc != 0:
        raise MemoryError()
    if reduction == RED_MEAN or reduction == RED_WEIGHTED_MEAN:
        value = total / divisor
    else:
        value = total
    return value, bad_index


def ce_run_f64(int op, int reduction, const double[:, :, :] x, const double[:, :, :] y,
               const int64_t[:, :] t, const double[:, :] w, const double[::1] cw,
               double[::1] loss_out, double[:, :, :] grad_out, double label_smoothing,
               bint has_ignore, int64_t ignore_index, bint check_first, bint x_is_out,
               int n_threads):
    """Cross-entropy, float64 (Notes H-L): x (rows, cols, C) logits; y probabilities of x's
    shape or t int64 class indices (rows, cols); w sample weights (rows, cols); cw class weights
    (C, float64). Returns (reduced loss, first invalid flat sample index or -1)."""
    return _ce_entry(op, reduction, x, y, t, w, cw, loss_out, grad_out, label_smoothing,
                     has_ignore, ignore_index, check_first, x_is_out, n_threads)


def ce_run_f32(int op, int reduction, const float[:, :, :] x, const float[:, :, :] y,
               const int64_t[:, :] t, const float[:, :] w, const double[::1] cw,
               float[::1] loss_out, float[:, :, :] grad_out, double label_smoothing,
               bint has_ignore, int64_t ignore_index, bint check_first, bint x_is_out,
               int n_threads):
    """Cross-entropy, float32 inputs (math in float64, outputs rounded once to float32)."""
    return _ce_entry(op, reduction, x, y, t, w, cw, loss_out, grad_out, label_smoothing,
                     has_ignore, ignore_index, check_first, x_is_out, n_threads)
