# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Per-element closed forms of binary cross-entropy, for Cython loops (cbce's own and yours).

The code and its design notes live in cbce/include/cbce_elementwise.h: C functions forced
inline into every loop that calls them (a Cython `cdef inline` is only a hint, and a closed form
left out of line keeps its loop scalar). Double precision unless suffixed _f (float32
arithmetic: logits, and the probability loss). `pw` is pos_weight; weights, reductions and range checks are the loops'
job; x for the probability forms is already in [0, 1] (clipped by the caller when eps is set).
"""

cdef extern from "cbce_elementwise.h" nogil:
    # From logits.
    double logit_loss "cbce_logit_loss"(double x, double y, double pw)
    double logit_grad "cbce_logit_grad"(double x, double y, double pw)
    double logit_loss_grad "cbce_logit_loss_grad"(double x, double y, double pw, double* grad)
    double logit_grad_hess "cbce_logit_grad_hess"(double x, double y, double pw, double* hess)
    float logit_loss_f "cbce_logit_loss_f"(float x, float y, float pw)
    float logit_grad_f "cbce_logit_grad_f"(float x, float y, float pw)
    float logit_loss_grad_f "cbce_logit_loss_grad_f"(float x, float y, float pw, float* grad)
    # From probabilities; floor is the gradient denominator's floor (PyTorch: float32 1e-12).
    double prob_loss "cbce_prob_loss"(double x, double y, double pw)
    double prob_grad "cbce_prob_grad"(double x, double y, double pw, double floor)
    double prob_loss_grad "cbce_prob_loss_grad"(double x, double y, double pw, double floor,
                                                double* grad)
    float prob_loss_f "cbce_prob_loss_f"(float x, float y, float pw)

cdef extern from "cbce_math.h" nogil:
    # The vectorizable helpers under the closed forms (tests/test_math.py checks them).
    double cbce_exp_nonpos(double x)
    double cbce_log(double x)
    double cbce_log1p(double t)
    double cbce_log1p_01(double t)
    double cbce_recip12(double u)
    float cbce_exp_nonpos_f(float x)
    float cbce_log1p_01_f(float t)
    float cbce_recip12_f(float u)
    float cbce_log_f(float x)
    float cbce_log1p_f(float t)
