/* cbce.h -- cbce's C API: binary cross-entropy kernels for C/C++ extensions, without the GIL.
 *
 *   #include "cbce.h"                           include_dirs = [cbce.get_include()]
 *   PyMODINIT_FUNC PyInit_mine(void) {
 *       if (import_cbce() < 0) return NULL;     once, at module init, with the GIL held
 *       ...
 *   }
 *   ... later, any thread, GIL held or not:
 *   double loss; ptrdiff_t bad;
 *   cbce_options opt = cbce_default_options();  probabilities, "mean", no smoothing, no eps
 *   opt.from_logits = 1;
 *   int rc = cbce_bce_loss_and_grad_f64(y, x, n, NULL, 0, NULL, 0, &opt, &loss, NULL, grad, &bad);
 *
 * The functions are those of the Python API (cbce.bce, bce_grad, bce_loss_and_grad,
 * bce_grad_hess) with the same semantics (docs: "Semantics" and "C API reference"), over flat
 * arrays: y_true and y_pred are n contiguous values; sample_weight and pos_weight are NULL
 * (absent) or a pointer and an element stride (0: one value for all elements, 1: one per
 * element, k: every k-th). `_f64` take and fill doubles, `_f32` floats.
 *
 * Options: start from cbce_default_options() (or cbce_options_init(&opt), or the static
 * initializer CBCE_OPTIONS_INIT), then set fields, so that a field added later gets its default.
 * options == NULL means the defaults. eps must be 0 with from_logits = 1 (CBCE_ERR_ARGUMENT
 * otherwise, as the Python API raises); cbce_bce_grad_hess_* take logits and ignore from_logits
 * and eps.
 *
 * Outputs (each NULL where not wanted, except that with n > 0 the grad functions need grad_out
 * and grad_hess also hess_out: CBCE_ERR_ARGUMENT when NULL; with n = 0 every pointer may be NULL):
 *   *loss      the reduced loss, a double for both types, accumulated in double in blocks
 *              (as in Python): the sum of the weighted per-element losses for SUM and NONE
 *              (NONE reduces nothing in loss_out but still stores their sum here), divided by
 *              n for MEAN, by the sum of sample_weight for WEIGHTED_MEAN (= MEAN without
 *              sample_weight). n = 0: NaN for MEAN and WEIGHTED_MEAN, 0 for SUM and NONE.
 *   loss_out   n per-element losses, weighted by sample_weight (and pos_weight) but NOT scaled
 *              by the reduction, whatever it is.
 *   grad_out   n gradients of the reduced loss: weighted AND scaled (1/n for MEAN, 1/sum(w)
 *              for WEIGHTED_MEAN, 1 for SUM and NONE).
 *   hess_out   n hessians, weighted and scaled like grad_out.
 *   *bad_index -1 on success and on CBCE_ERR_ARGUMENT / CBCE_ERR_MEMORY; the first offending
 *              flat index on CBCE_ERR_Y_TRUE / CBCE_ERR_Y_PRED.
 * Gradient accuracy: within 4 ulp of the size of its terms (a gradient that cancels, soft labels
 * near sigma(x), is exact to that absolute size, not to 4 ulp of its own value). The float32
 * gradient of cbce_bce_grad_f32 / cbce_bce_loss_and_grad_f32 (float arithmetic) and of
 * cbce_bce_grad_hess_f32 (double arithmetic, rounded once) may therefore differ, by at most
 * 2 x 4 float32 ulp of that size (measured: 3), i.e. thousands of ulp of a cancelling
 * gradient's own value (docs: "C API reference", "Accuracy").
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
 * Building: only include_dirs = [cbce.get_include()] (numpy.get_include() is not needed; nothing
 * links against cbce). A consumer's own OpenMP loops (Cython prange) need -fopenmp in its own
 * compile and link flags; cbce's kernels have their own team.
 *
 * Versioning: import_cbce() fails with ImportError, naming the cause, when cbce cannot be
 * imported, has no _C_API, its _C_API is not a capsule or is another package's capsule, its
 * table has another CBCE_ABI_VERSION than this header (rebuild the extension), or its table is
 * shorter than this header's (upgrade cbce), instead of calling through a mismatched table. New
 * functions are appended to the table without changing the ABI version; the table's size tells
 * a newer header built against an older cbce what it lacks.
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

/* The defaults (those of CBCE_OPTIONS_INIT and of options == NULL); inline, no table entry. */
static inline void cbce_options_init(cbce_options *options)
{
    cbce_options d = CBCE_OPTIONS_INIT;
    *options = d;
}

static inline cbce_options cbce_default_options(void)
{
    cbce_options d = CBCE_OPTIONS_INIT;
    return d;
}

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

/* Load the table; 0 on success, -1 with ImportError (or the import's own error) set. Needs the
   GIL. */
static int import_cbce(void)
{
    PyObject *module = PyImport_ImportModule("cbce");
    if (module == NULL) return -1;
    PyObject *capsule = PyObject_GetAttrString(module, "_C_API");
    Py_DECREF(module);
    if (capsule == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError,
                        "cbce has no _C_API: the imported cbce is too old to have a C API, or "
                        "another module named cbce shadows it");
        return -1;
    }
    if (!PyCapsule_CheckExact(capsule)) {
        PyErr_Format(PyExc_ImportError, "cbce._C_API is not a capsule but a %.200s object",
                     Py_TYPE(capsule)->tp_name);
        Py_DECREF(capsule);
        return -1;
    }
    if (!PyCapsule_IsValid(capsule, "cbce._C_API")) {
        const char *name = PyCapsule_GetName(capsule);
        PyErr_Clear();
        PyErr_Format(PyExc_ImportError,
                     "cbce._C_API is a capsule named \"%.200s\", not \"cbce._C_API\": it comes "
                     "from another package", name ? name : "(NULL)");
        Py_DECREF(capsule);
        return -1;
    }
    /* The table is static data of a module that stays in sys.modules: the pointer outlives the
       capsule reference. */
    const cbce_api_table *table =
        (const cbce_api_table *)PyCapsule_GetPointer(capsule, "cbce._C_API");
    Py_DECREF(capsule);
    if (table == NULL) return -1;
    if (table->abi_version != CBCE_ABI_VERSION) {
        /* Only the first field is read: another version's layout may differ after it. */
        PyErr_Format(PyExc_ImportError,
                     "this extension was built against cbce C API version %d, but the "
                     "installed cbce provides version %u: rebuild the extension against it",
                     CBCE_ABI_VERSION, table->abi_version);
        return -1;
    }
    if (table->table_size < sizeof(cbce_api_table)) {
        PyErr_Format(PyExc_ImportError,
                     "the installed cbce's C API table has %u bytes, fewer than the %u of the "
                     "cbce.h this extension was built with: upgrade cbce",
                     table->table_size, (unsigned int)sizeof(cbce_api_table));
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
