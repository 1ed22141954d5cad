/* A plain C extension that calls cbce's fused kernel with the GIL released. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <time.h>

#include "cbce.h"

/* Borrow a C-contiguous float64 buffer from any object with the buffer protocol. */
static int get_f64(PyObject *obj, Py_buffer *view, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    if (view->format == NULL || strcmp(view->format, "d") != 0 || view->ndim != 1) {
        PyErr_Format(PyExc_TypeError, "%s must be a 1-D contiguous float64 buffer", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* loss_and_grad(y, logits, grad_out, n_threads=0) -> mean BCE; fills grad_out. */
static PyObject *loss_and_grad(PyObject *self, PyObject *args)
{
    PyObject *oy, *ox, *og;
    int n_threads = 0, rc;
    Py_buffer y, x, g;
    double loss = 0.0;
    ptrdiff_t bad = -1;
    if (!PyArg_ParseTuple(args, "OOO|i", &oy, &ox, &og, &n_threads)) return NULL;
    if (get_f64(oy, &y, 0, "y") < 0) return NULL;
    if (get_f64(ox, &x, 0, "logits") < 0) { PyBuffer_Release(&y); return NULL; }
    if (get_f64(og, &g, 1, "grad_out") < 0) {
        PyBuffer_Release(&y); PyBuffer_Release(&x); return NULL;
    }
    ptrdiff_t n = x.shape[0];
    if (y.shape[0] != n || g.shape[0] != n) {
        rc = CBCE_ERR_ARGUMENT;
    } else {
        cbce_options opt = cbce_default_options();   /* every field, later ones included */
        opt.from_logits = 1;
        opt.n_threads = n_threads;
        /* n = 0 is valid: the mean of nothing is NaN, as in Python; no element is read. */
        Py_BEGIN_ALLOW_THREADS
        rc = cbce_bce_loss_and_grad_f64((const double *)y.buf, (const double *)x.buf, n,
                                        NULL, 0, NULL, 0, &opt, &loss, NULL,
                                        (double *)g.buf, &bad);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&y); PyBuffer_Release(&x); PyBuffer_Release(&g);
    if (rc != CBCE_OK) {
        PyErr_Format(PyExc_ValueError, "cbce returned error %d (first bad index %zd)", rc,
                     (Py_ssize_t)bad);
        return NULL;
    }
    return PyFloat_FromDouble(loss);
}

/* seconds_per_call(y, logits, grad_out, calls): the C entry point's cost, timed in C. */
static PyObject *seconds_per_call(PyObject *self, PyObject *args)
{
    PyObject *oy, *ox, *og;
    long calls;
    Py_buffer y, x, g;
    double loss = 0.0;
    int rc = CBCE_OK;
    struct timespec t0, t1;
    if (!PyArg_ParseTuple(args, "OOOl", &oy, &ox, &og, &calls)) return NULL;
    if (get_f64(oy, &y, 0, "y") < 0) return NULL;
    if (get_f64(ox, &x, 0, "logits") < 0) { PyBuffer_Release(&y); return NULL; }
    if (get_f64(og, &g, 1, "grad_out") < 0) {
        PyBuffer_Release(&y); PyBuffer_Release(&x); return NULL;
    }
    cbce_options opt;
    cbce_options_init(&opt);
    opt.from_logits = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < calls && rc == CBCE_OK; i++)
        rc = cbce_bce_loss_and_grad_f64((const double *)y.buf, (const double *)x.buf,
                                        x.shape[0], NULL, 0, NULL, 0, &opt, &loss, NULL,
                                        (double *)g.buf, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    PyBuffer_Release(&y); PyBuffer_Release(&x); PyBuffer_Release(&g);
    if (rc != CBCE_OK) return PyErr_Format(PyExc_ValueError, "cbce returned error %d", rc);
    return PyFloat_FromDouble(((t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec)) / calls);
}

static PyMethodDef methods[] = {
    {"loss_and_grad", loss_and_grad, METH_VARARGS, "Mean BCE of logits; fills grad_out."},
    {"seconds_per_call", seconds_per_call, METH_VARARGS, "Cost of one C-level call."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cbce_c_consumer", NULL, -1, methods};

PyMODINIT_FUNC PyInit_cbce_c_consumer(void)
{
    if (import_cbce() < 0) return NULL;    /* ImportError naming the cause */
    return PyModule_Create(&module);
}
