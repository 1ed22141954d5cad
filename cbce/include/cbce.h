/* cbce.h -- cbce's C API: binary cross-entropy kernels for C/C++ extensions, without the GIL.
 *
 *   #include "cbce.h"                           include_dirs = [cbce.get_include()]
 *   PyMODINIT_FUNC PyInit_mine(void) {
 *       if (import_cbce() < 0) return NULL;     once, at module init, with the GIL held
 *       ...
 *   }
 *   ... later, any thread, GIL held or not:
 *   double loss; ptrdiff_t bad;
 *   cbce_options opt = CBCE_OPTIONS_INIT;        probabilities, "mean", no smoothing, no eps
 *   opt.from_logits = 1;
 *   int rc = cbce_bce_loss_and_grad_f64(y, x, n, NULL, 0, NULL, 0, &opt, &loss, NULL, grad, &bad);
 *
 * The functions are those of the Python API (cbce.bce, bce_grad, bce_loss_and_grad,
 * bce_grad_hess) with the same semantics (README, "Semantics"), over flat arrays: y_true and
 * y_pred are n contiguous values; sample_weight and pos_weight are NULL (absent) or a pointer and
 * an element stride (0: one value for all elements, 1: one per element, k: every k-th); outputs
 * are n contiguous values or NULL where not wanted. `_f64` take and fill doubles, `_f32` floats
 * (the reduced loss is a double in both, accumulated in double, as in Python).
 *
 * Return value: CBCE_OK (0), or a negative CBCE_ERR_* code; nothing is raised and no Python
 * object is touched, so the calls are safe without the GIL and from any thread (they keep no
 * state between calls). A range error (y_true outside [0, 1] or NaN; probabilities outside
 * [0, 1] or NaN) stores the first offending index in *bad_index (when bad_index is not NULL);
 * outputs are then partly written, inputs untouched (an output that is y_pred or y_true itself
 * is checked before the first write). Outputs must not partly overlap an input.
 *
 * Threads: n_threads <= 0 uses OpenMP's default (OMP_NUM_THREADS, threadpoolctl); inputs below
 * 16384 elements run on the calling thread. Called from inside the caller's own OpenMP parallel
 * region, the kernel's team is nested and, with OpenMP's default max-active-levels of 1, runs
 * on the calling thread alone. Results (the reduced loss included) do not depend on n_threads.
 *
 * Versioning: import_cbce() fails with ImportError when the installed cbce's table has another
 * CBCE_ABI_VERSION than this header (rebuild the extension), instead of calling through a
 * mismatched table. New functions are appended to the table without changing the ABI version;
 * the table's size tells a newer header built against an older cbce what it lacks.
 */
#ifndef CBCE_H
#define CBCE_H

#include <Python.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CBCE_ABI_VERSION       /* overridable only so that tests can fake an old header */
#define CBCE_ABI_VERSION 1
#endif

/* Return codes. */
#define CBCE_OK 0
#define CBCE_ERR_ARGUMENT (-1)      /* n < 0, a NULL array with n > 0, a bad option */
#define CBCE_ERR_Y_TRUE (-2)        /* y_true outside [0, 1] or NaN (index in *bad_index) */
#define CBCE_ERR_Y_PRED (-3)        /* probabilities outside [0, 1] or NaN (index in *bad_index) */
#define CBCE_ERR_MEMORY (-4)        /* a work buffer could not be allocated */

/* Reductions (cbce_options.reduction). */
#define CBCE_REDUCTION_NONE 0
#define CBCE_REDUCTION_SUM 1
#define CBCE_REDUCTION_MEAN 2
#define CBCE_REDUCTION_WEIGHTED_MEAN 3

/* Operations (the table's first argument; the named wrappers below pass them). */
#define CBCE_OP_LOSS 0
#define CBCE_OP_GRAD 1
#define CBCE_OP_LOSS_GRAD 2
#define CBCE_OP_GRAD_HESS 3

typedef struct cbce_options {
    int from_logits;            /* 0: y_pred are probabilities; 1: logits */
    int reduction;              /* CBCE_REDUCTION_*; default MEAN */
    double label_smoothing;     /* in [0, 1]; y <- y (1 - ls) + ls / 2 */
    double eps;                 /* 0: none (log clamped at -100); else clip to [eps, 1 - eps] */
    int n_threads;              /* <= 0: OpenMP's default */
} cbce_options;

#define CBCE_OPTIONS_INIT {0, CBCE_REDUCTION_MEAN, 0.0, 0.0, 0}

typedef int (*cbce_run_f64_t)(int op, const double *y_true, const double *y_pred, ptrdiff_t n,
                              const double *sample_weight, ptrdiff_t sw_stride,
                              const double *pos_weight, ptrdiff_t pw_stride,
                              const cbce_options *options, double *loss, double *loss_out,
                              double *grad_out, double *hess_out, ptrdiff_t *bad_index);
typedef int (*cbce_run_f32_t)(int op, const float *y_true, const float *y_pred, ptrdiff_t n,
                              const float *sample_weight, ptrdiff_t sw_stride,
                              const float *pos_weight, ptrdiff_t pw_stride,
                              const cbce_options *options, double *loss, float *loss_out,
                              float *grad_out, float *hess_out, ptrdiff_t *bad_index);

/* The capsule's table (cbce._C_API). Append only; reordering needs a new CBCE_ABI_VERSION. */
typedef struct cbce_api_table {
    unsigned int abi_version;   /* CBCE_ABI_VERSION of the cbce that filled it */
    unsigned int table_size;    /* sizeof(cbce_api_table) there */
    const char *version;        /* cbce.__version__ */
    const char *kernel_variant; /* "avx512", "avx2" or "baseline" */
    cbce_run_f64_t run_f64;
    cbce_run_f32_t run_f32;
} cbce_api_table;

/* One pointer per translation unit that includes this header: call import_cbce() in each. */
static const cbce_api_table *cbce_api = NULL;

/* Load the table; 0 on success, -1 with a Python exception set. Needs the GIL. */
static int import_cbce(void)
{
    PyObject *module = PyImport_ImportModule("cbce");
    if (module == NULL) return -1;
    PyObject *capsule = PyObject_GetAttrString(module, "_C_API");
    Py_DECREF(module);
    if (capsule == NULL) return -1;
    /* The table is static data of a module that stays in sys.modules: the pointer outlives the
       capsule reference. */
    const cbce_api_table *table =
        (const cbce_api_table *)PyCapsule_GetPointer(capsule, "cbce._C_API");
    Py_DECREF(capsule);
    if (table == NULL) return -1;
    if (table->abi_version != CBCE_ABI_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "this extension was built against cbce C API version %d, but the "
                     "installed cbce %s provides version %u: rebuild the extension against it",
                     CBCE_ABI_VERSION, table->version, table->abi_version);
        return -1;
    }
    if (table->table_size < sizeof(cbce_api_table)) {
        PyErr_Format(PyExc_ImportError,
                     "the installed cbce %s is older than the cbce.h this extension was built "
                     "with (its C API table is smaller): upgrade cbce", table->version);
        return -1;
    }
    cbce_api = table;
    return 0;
}

/* ---- float64 ---------------------------------------------------------------------------- */

static inline int cbce_bce_f64(const double *y_true, const double *y_pred, ptrdiff_t n,
                               const double *sample_weight, ptrdiff_t sw_stride,
                               const double *pos_weight, ptrdiff_t pw_stride,
                               const cbce_options *options, double *loss, double *loss_out,
                               ptrdiff_t *bad_index)
{
    return cbce_api->run_f64(CBCE_OP_LOSS, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, loss, loss_out, NULL, NULL,
                             bad_index);
}

static inline int cbce_bce_grad_f64(const double *y_true, const double *y_pred, ptrdiff_t n,
                                    const double *sample_weight, ptrdiff_t sw_stride,
                                    const double *pos_weight, ptrdiff_t pw_stride,
                                    const cbce_options *options, double *grad_out,
                                    ptrdiff_t *bad_index)
{
    return cbce_api->run_f64(CBCE_OP_GRAD, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, NULL, NULL, grad_out, NULL,
                             bad_index);
}

static inline int cbce_bce_loss_and_grad_f64(const double *y_true, const double *y_pred,
                                             ptrdiff_t n, const double *sample_weight,
                                             ptrdiff_t sw_stride, const double *pos_weight,
                                             ptrdiff_t pw_stride, const cbce_options *options,
                                             double *loss, double *loss_out, double *grad_out,
                                             ptrdiff_t *bad_index)
{
    return cbce_api->run_f64(CBCE_OP_LOSS_GRAD, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, loss, loss_out, grad_out, NULL,
                             bad_index);
}

/* Logits only: options->from_logits and options->eps are ignored. */
static inline int cbce_bce_grad_hess_f64(const double *y_true, const double *y_pred, ptrdiff_t n,
                                         const double *sample_weight, ptrdiff_t sw_stride,
                                         const double *pos_weight, ptrdiff_t pw_stride,
                                         const cbce_options *options, double *grad_out,
                                         double *hess_out, ptrdiff_t *bad_index)
{
    return cbce_api->run_f64(CBCE_OP_GRAD_HESS, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, NULL, NULL, grad_out, hess_out,
                             bad_index);
}

/* ---- float32 ---------------------------------------------------------------------------- */

static inline int cbce_bce_f32(const float *y_true, const float *y_pred, ptrdiff_t n,
                               const float *sample_weight, ptrdiff_t sw_stride,
                               const float *pos_weight, ptrdiff_t pw_stride,
                               const cbce_options *options, double *loss, float *loss_out,
                               ptrdiff_t *bad_index)
{
    return cbce_api->run_f32(CBCE_OP_LOSS, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, loss, loss_out, NULL, NULL,
                             bad_index);
}

static inline int cbce_bce_grad_f32(const float *y_true, const float *y_pred, ptrdiff_t n,
                                    const float *sample_weight, ptrdiff_t sw_stride,
                                    const float *pos_weight, ptrdiff_t pw_stride,
                                    const cbce_options *options, float *grad_out,
                                    ptrdiff_t *bad_index)
{
    return cbce_api->run_f32(CBCE_OP_GRAD, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, NULL, NULL, grad_out, NULL,
                             bad_index);
}

static inline int cbce_bce_loss_and_grad_f32(const float *y_true, const float *y_pred,
                                             ptrdiff_t n, const float *sample_weight,
                                             ptrdiff_t sw_stride, const float *pos_weight,
                                             ptrdiff_t pw_stride, const cbce_options *options,
                                             double *loss, float *loss_out, float *grad_out,
                                             ptrdiff_t *bad_index)
{
    return cbce_api->run_f32(CBCE_OP_LOSS_GRAD, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, loss, loss_out, grad_out, NULL,
                             bad_index);
}

static inline int cbce_bce_grad_hess_f32(const float *y_true, const float *y_pred, ptrdiff_t n,
                                         const float *sample_weight, ptrdiff_t sw_stride,
                                         const float *pos_weight, ptrdiff_t pw_stride,
                                         const cbce_options *options, float *grad_out,
                                         float *hess_out, ptrdiff_t *bad_index)
{
    return cbce_api->run_f32(CBCE_OP_GRAD_HESS, y_true, y_pred, n, sample_weight, sw_stride,
                             pos_weight, pw_stride, options, NULL, NULL, grad_out, hess_out,
                             bad_index);
}

#ifdef __cplusplus
}
#endif

#endif /* CBCE_H */
