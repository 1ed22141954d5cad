"""Edge cases found by the reliability work: NaN logits under a zero coefficient, huge teams."""
import numpy as np
import pytest

import cbce


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_logit_propagates_through_a_zero_coefficient(dtype):
    """y=1 with pos_weight=0 zeroes both loss terms' coefficients; a NaN logit is still NaN."""
    y = np.array([1.0, 1.0], dtype)
    x = np.array([np.nan, 0.5], dtype)
    loss = cbce.bce(y, x, from_logits=True, pos_weight=0.0, reduction="none")
    assert np.isnan(loss[0]) and loss[1] == 0.0


def test_thread_count_far_beyond_the_processors_is_capped_not_fatal():
    """n_threads=40000 runs (capped at 4x the processors) and gives the 1-thread result."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=300_000)
    y = (rng.random(300_000) < 0.5).astype(np.float64)
    one = cbce.bce_loss_and_grad(y, x, from_logits=True, n_threads=1)
    many = cbce.bce_loss_and_grad(y, x, from_logits=True, n_threads=40000)
    assert one[0] == many[0]
    assert np.array_equal(one[1], many[1])
