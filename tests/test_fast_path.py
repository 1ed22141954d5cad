"""The facade's fast path (`_kernels.fast`, the common call checked in C) against its general path.

The common call (plain ndarrays of the compute dtype, no weights, plain option types, caller
outputs that are an input exactly or apart from every operand) is checked in C and runs the C
API's job; anything else falls through to the general path. A `label_smoothing` of type
np.float64 is not a plain float, so it forces the general path on the same numbers: the two
must agree bit for bit, and whatever the fast path declines must still get the general path's
results and messages.
"""
import numpy as np
import pytest

import cbce

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
KINDS = [pytest.param(True, id="logits"), pytest.param(False, id="probabilities")]
N = 10_007


def _data(rng, dtype, from_logits, n=N):
    x = (rng.normal(0, 3, n) if from_logits else rng.uniform(0, 1, n)).astype(dtype)
    y = (rng.random(n) < 0.3).astype(dtype)
    return y, x


def _calls(from_logits):
    """(name, function(y, x, ls, out) -> tuple of results) for every entry point."""
    calls = [
        ("bce", lambda y, x, ls, out: (cbce.bce(y, x, from_logits=from_logits,
                                                label_smoothing=ls),)),
        ("bce-none", lambda y, x, ls, out: (cbce.bce(y, x, from_logits=from_logits,
                                                     label_smoothing=ls, reduction="none"),)),
        ("bce_grad", lambda y, x, ls, out: (cbce.bce_grad(y, x, from_logits=from_logits,
                                                          label_smoothing=ls, out=out),)),
        ("bce_loss_and_grad", lambda y, x, ls, out: cbce.bce_loss_and_grad(
            y, x, from_logits=from_logits, label_smoothing=ls, out=out)),
    ]
    if from_logits:
        calls.append(("bce_grad_hess", lambda y, x, ls, out: cbce.bce_grad_hess(
            y, x, label_smoothing=ls, grad_out=out)))
    return calls


@pytest.mark.parametrize("with_out", [False, True], ids=["allocated", "out"])
@pytest.mark.parametrize("from_logits", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_and_general_paths_agree_bitwise(dtype, from_logits, with_out, rng):
    y, x = _data(rng, dtype, from_logits)
    for name, call in _calls(from_logits):
        out_fast = np.empty_like(x) if with_out else None
        out_general = np.empty_like(x) if with_out else None
        fast = call(y, x, 0.1, out_fast)
        general = call(y, x, np.float64(0.1), out_general)
        for a, b in zip(fast, general):
            assert np.array_equal(np.asarray(a), np.asarray(b)), name
            assert np.asarray(a).dtype == np.asarray(b).dtype, name
        if with_out and name != "bce" and name != "bce-none":
            grad = fast[0] if name == "bce_grad" else fast[1] if name == "bce_loss_and_grad" \
                else fast[0]
            assert grad is out_fast, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_partly_overlapping_an_input_gets_the_general_paths_result(dtype, rng):
    """An out that shares memory with y_pred without being it is computed aside."""
    y, x = _data(rng, dtype, True)
    want = cbce.bce_grad(y, x, from_logits=True)
    buf = np.empty(N + 1, dtype)
    buf[:N] = x
    got = cbce.bce_grad(y, buf[:N], from_logits=True, out=buf[1:])
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_on_the_fast_path_leaves_the_input_intact_when_it_raises(dtype, rng):
    y, x = _data(rng, dtype, True)
    y[N // 2] = 2.0
    before = x.copy()
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\]; found 2.0 at index 5003"):
        cbce.bce_grad(y, x, from_logits=True, out=x)
    assert np.array_equal(x, before)


def test_outputs_that_overlap_each_other_are_refused(rng):
    y, x = _data(rng, np.float64, True)
    g = np.empty_like(x)
    with pytest.raises(ValueError, match="grad_out and hess_out must not overlap"):
        cbce.bce_grad_hess(y, x, grad_out=g, hess_out=g)


def test_read_only_out_is_refused(rng):
    y, x = _data(rng, np.float64, True)
    g = np.empty_like(x)
    g.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        cbce.bce_grad(y, x, from_logits=True, out=g)


@pytest.mark.parametrize("value", [10**400, -1, 2, float("nan")])
def test_out_of_range_label_smoothing_is_a_value_error(value, rng):
    """Plain ints of any size are compared as objects (no OverflowError from the fast path)."""
    y, x = _data(rng, np.float64, True)
    with pytest.raises(ValueError, match="label_smoothing"):
        cbce.bce(y, x, from_logits=True, label_smoothing=value)


@pytest.mark.parametrize(("option", "value"), [("eps", 10**400), ("gamma", 10**400),
                                                ("alpha", 10**400), ("alpha", -10**400)])
def test_huge_int_options_are_value_errors(option, value, rng):
    """An int beyond float's range is out of range, not an OverflowError."""
    y, x = _data(rng, np.float64, option != "eps")
    with pytest.raises(ValueError, match=option):
        cbce.bce(y, x, from_logits=option != "eps", **{option: value})
