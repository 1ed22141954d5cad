"""out= arguments and the in-place gradient, out=y_pred (docs/semantics.md, "out")."""
import numpy as np
import pytest

import cbce

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
KINDS = [pytest.param(True, id="logits"), pytest.param(False, id="probabilities")]


def _data(rng, dtype, from_logits, n=100_003):
    x = (rng.normal(0, 3, n) if from_logits else rng.uniform(0, 1, n)).astype(dtype)
    y = rng.uniform(0, 1, n).astype(dtype)
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    return y, x, w


@pytest.mark.parametrize("n_threads", [1, None], ids=["1-thread", "default-threads"])
@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_grad_equals_out_of_place(dtype, from_logits, n_threads, rng):
    """bce_grad(y, x, out=x) overwrites x with the gradient the out-of-place call returns."""
    y, x, w = _data(rng, dtype, from_logits)
    opts = {"from_logits": from_logits, "sample_weight": w, "pos_weight": 2.0, "n_threads": n_threads}
    expected = cbce.bce_grad(y, x.copy(), **opts)
    result = cbce.bce_grad(y, x, out=x, **opts)
    assert result is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_loss_and_grad_equals_out_of_place(dtype, from_logits, rng):
    """bce_loss_and_grad(y, x, out=x) returns the loss of the original x and writes the gradient into x."""
    y, x, w = _data(rng, dtype, from_logits)
    expected_loss, expected_grad = cbce.bce_loss_and_grad(y, x.copy(), from_logits=from_logits, sample_weight=w)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=from_logits, sample_weight=w, out=x)
    assert grad is x
    assert loss == expected_loss
    np.testing.assert_array_equal(x, expected_grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_hess_outs_are_filled_and_returned(dtype, rng):
    """bce_grad_hess fills grad_out and hess_out and returns those same objects."""
    y, x, w = _data(rng, dtype, True, n=1000)
    expected = cbce.bce_grad_hess(y, x, sample_weight=w)
    grad_out, hess_out = np.full(x.shape, np.nan, dtype), np.full(x.shape, np.nan, dtype)
    grad, hess = cbce.bce_grad_hess(y, x, sample_weight=w, grad_out=grad_out, hess_out=hess_out)
    assert grad is grad_out and hess is hess_out
    np.testing.assert_array_equal(grad, expected[0])
    np.testing.assert_array_equal(hess, expected[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_for_strided_input_is_c_contiguous_of_x_shape(dtype, rng):
    """For a strided 2-D y_pred, a C-contiguous out of its shape is accepted, filled and returned."""
    y, x, _ = _data(rng, dtype, True, n=40 * 30)
    x2 = x.reshape(40, 30)[:, ::3]
    y2 = np.ascontiguousarray(y.reshape(40, 30)[:, ::3])
    out = np.empty(x2.shape, dtype)
    result = cbce.bce_grad(y2, x2, from_logits=True, out=out)
    assert result is out
    np.testing.assert_array_equal(out, cbce.bce_grad(y2, np.ascontiguousarray(x2), from_logits=True))
