# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# (Directives live here so that a cimporting module's own directives do not reach these inline
# bodies.)
"""cbce's Cython API: `from cbce.capi cimport ...` in a .pyx built with
include_dirs=[cbce.get_include()] (numpy.get_include() is not needed; add -fopenmp to your own
flags only for your own prange). See the docs, "Using cbce from C and Cython", and
examples/cython_consumer/.

(a) Array-level functions, nogil, over flat contiguous arrays: the C API of cbce/include/cbce.h.
    Call import_cbce() once at module import (ImportError, naming the cause, when cbce has no
    usable C API of this version). Start options from cbce_default_options() (the counterpart
    of CBCE_OPTIONS_INIT), then set fields. They return CBCE_OK (0) or a negative CBCE_ERR_*
    code; see cbce.h for the contract (outputs, reductions, *bad_index).
(b) Per-element inline functions for your own loops, in double precision (float32 variants for
    logits carry an _f suffix): logits `logit_loss(x, y, pw)`, `logit_grad`, `logit_loss_grad(x,
    y, pw, &grad)`, `logit_grad_hess(x, y, pw, &hess)`; probabilities (x already in [0, 1])
    `prob_loss(x, y, pw)`, `prob_grad(x, y, pw, floor)`, `prob_loss_grad(x, y, pw, floor,
    &grad)`. No weights, no reduction, no range checks: those are the loops' job. They use
    cbce's own math (cbce_math.h, no libm) and equal cbce's array results bit for bit only when
    your module is compiled with the flags of the target cbce runs
    (cbce.show_config()["kernel_variant"] and ["variant_flags"]): FMA contraction differs per
    target; with other flags they stay within the same ulp bounds.
"""
from libc.stddef cimport ptrdiff_t

from cbce._elementwise cimport (
    logit_loss, logit_grad, logit_loss_grad, logit_grad_hess,
    logit_loss_f, logit_grad_f, logit_loss_grad_f,
    prob_loss, prob_grad, prob_loss_grad,
)

cdef extern from "cbce.h":
    int CBCE_ABI_VERSION
    int CBCE_OK, CBCE_ERR_ARGUMENT, CBCE_ERR_Y_TRUE, CBCE_ERR_Y_PRED, CBCE_ERR_MEMORY
    int CBCE_REDUCTION_NONE, CBCE_REDUCTION_SUM, CBCE_REDUCTION_MEAN, CBCE_REDUCTION_WEIGHTED_MEAN

    ctypedef struct cbce_options:
        int from_logits
        int reduction
        double label_smoothing
        double eps
        int n_threads

    cbce_options cbce_default_options() noexcept nogil
    void cbce_options_init(cbce_options* options) noexcept nogil

    int import_cbce() except -1

    int cbce_bce_f64(const double* y_true, const double* y_pred, ptrdiff_t n,
                     const double* sample_weight, ptrdiff_t sw_stride,
                     const double* pos_weight, ptrdiff_t pw_stride,
                     const cbce_options* options, double* loss, double* loss_out,
                     ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_grad_f64(const double* y_true, const double* y_pred, ptrdiff_t n,
                          const double* sample_weight, ptrdiff_t sw_stride,
                          const double* pos_weight, ptrdiff_t pw_stride,
                          const cbce_options* options, double* grad_out,
                          ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_loss_and_grad_f64(const double* y_true, const double* y_pred, ptrdiff_t n,
                                   const double* sample_weight, ptrdiff_t sw_stride,
                                   const double* pos_weight, ptrdiff_t pw_stride,
                                   const cbce_options* options, double* loss, double* loss_out,
                                   double* grad_out, ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_grad_hess_f64(const double* y_true, const double* y_pred, ptrdiff_t n,
                               const double* sample_weight, ptrdiff_t sw_stride,
                               const double* pos_weight, ptrdiff_t pw_stride,
                               const cbce_options* options, double* grad_out, double* hess_out,
                               ptrdiff_t* bad_index) noexcept nogil

    int cbce_bce_f32(const float* y_true, const float* y_pred, ptrdiff_t n,
                     const float* sample_weight, ptrdiff_t sw_stride,
                     const float* pos_weight, ptrdiff_t pw_stride,
                     const cbce_options* options, double* loss, float* loss_out,
                     ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_grad_f32(const float* y_true, const float* y_pred, ptrdiff_t n,
                          const float* sample_weight, ptrdiff_t sw_stride,
                          const float* pos_weight, ptrdiff_t pw_stride,
                          const cbce_options* options, float* grad_out,
                          ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_loss_and_grad_f32(const float* y_true, const float* y_pred, ptrdiff_t n,
                                   const float* sample_weight, ptrdiff_t sw_stride,
                                   const float* pos_weight, ptrdiff_t pw_stride,
                                   const cbce_options* options, double* loss, float* loss_out,
                                   float* grad_out, ptrdiff_t* bad_index) noexcept nogil
    int cbce_bce_grad_hess_f32(const float* y_true, const float* y_pred, ptrdiff_t n,
                               const float* sample_weight, ptrdiff_t sw_stride,
                               const float* pos_weight, ptrdiff_t pw_stride,
                               const cbce_options* options, float* grad_out, float* hess_out,
                               ptrdiff_t* bad_index) noexcept nogil
