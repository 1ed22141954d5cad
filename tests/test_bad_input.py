"""Bad input: a clear error naming the argument, and nothing lost (docs/semantics.md, "Errors").

Messages are matched on the argument's name (and, for range errors, the value and index), not on
exact wording.
"""
import re

import numpy as np
import pytest

import cbce

Y = np.array([0.0, 1.0, 0.25, 1.0])
P = np.array([0.2, 0.9, 0.5, 0.7])      # valid probabilities
X = np.array([-2.0, 3.0, 0.0, 40.0])    # logits

# Every entry point, called as f(y_true, y_pred, **kwargs); bce_grad_hess takes logits only.
FUNCTIONS = {
    "bce": lambda y, x, **k: cbce.bce(y, x, **k),
    "bce_grad": lambda y, x, **k: cbce.bce_grad(y, x, **k),
    "bce_loss_and_grad": lambda y, x, **k: cbce.bce_loss_and_grad(y, x, **k),
    "bce_grad_hess": lambda y, x, from_logits=True, **k: cbce.bce_grad_hess(y, x, **k),
}
ALL = list(FUNCTIONS)
PROBABILITY_FUNCTIONS = ["bce", "bce_grad", "bce_loss_and_grad"]


def _call(name, y, x, **kwargs):
    return FUNCTIONS[name](y, x, **kwargs)


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize(("y_shape", "x_shape"), [((3,), (4,)), ((4, 1), (4,)), ((2, 3), (3, 2))],
                         ids=["3-vs-4", "(4,1)-vs-(4,)", "(2,3)-vs-(3,2)"])
def test_different_shapes_raise(func, y_shape, x_shape):
    """y_true and y_pred of different shapes raise ValueError naming them (no broadcasting)."""
    with pytest.raises(ValueError, match="y_true|y_pred"):
        _call(func, np.full(y_shape, 0.5), np.full(x_shape, 0.5), from_logits=True)


def _assert_names_value_and_index(excinfo, name, value, index):
    message = str(excinfo.value)
    assert name in message, message
    assert re.search(rf"(?<![\d.]){index}(?!\d)", message), f"index {index} not in: {message}"
    if isinstance(value, float) and np.isnan(value):
        assert "nan" in message.lower(), message
    else:
        assert repr(value) in message or str(value) in message, f"{value} not in: {message}"


BAD_LABELS = [pytest.param(1.5, id="1.5"), pytest.param(-0.25, id="-0.25"), pytest.param(np.nan, id="nan"),
              pytest.param(np.inf, id="inf")]


@pytest.mark.parametrize("bad", BAD_LABELS)
@pytest.mark.parametrize(("func", "from_logits"),
                         [(f, True) for f in ALL] + [(f, False) for f in PROBABILITY_FUNCTIONS],
                         ids=[f"{f}-logits" for f in ALL] + [f"{f}-probabilities" for f in PROBABILITY_FUNCTIONS])
def test_y_true_out_of_range_raises_with_value_and_index(func, from_logits, bad):
    """y_true outside [0, 1] or NaN raises ValueError naming y_true, the value and its index."""
    y = np.full(2000, 0.5)
    y[1234] = bad
    x = np.full(2000, 0.5)
    with pytest.raises(ValueError, match="y_true") as excinfo:
        _call(func, y, x, from_logits=from_logits)
    _assert_names_value_and_index(excinfo, "y_true", bad, 1234)


@pytest.mark.parametrize("func", PROBABILITY_FUNCTIONS)
@pytest.mark.parametrize("bad", [pytest.param(1.0000001, id="1.0000001"), pytest.param(-1e-300, id="-1e-300"),
                                 pytest.param(np.nan, id="nan"), pytest.param(-np.inf, id="-inf")])
def test_probability_out_of_range_raises_with_value_and_index(func, bad):
    """With from_logits=False, y_pred outside [0, 1] or NaN raises ValueError naming y_pred, value, index."""
    x = np.full(2000, 0.5)
    x[1717] = bad
    with pytest.raises(ValueError, match="y_pred") as excinfo:
        _call(func, np.full(2000, 0.5), x)
    _assert_names_value_and_index(excinfo, "y_pred", bad, 1717)


@pytest.mark.parametrize("func", ALL)
def test_nan_logits_propagate_without_error(func):
    """NaN logits are not an error: the element's results are NaN (PyTorch), the others are finite."""
    x = X.copy()
    x[1] = np.nan
    result = _call(func, Y, x, from_logits=True, reduction="none")
    arrays = result if isinstance(result, tuple) else (result,)
    for a in arrays:
        assert np.isnan(a[1]) and np.all(np.isfinite(np.delete(a, 1))), a


def test_nan_logit_makes_the_reduced_loss_nan():
    """A NaN logit makes sum, mean and weighted_mean NaN."""
    x = X.copy()
    x[2] = np.nan
    for reduction in ("sum", "mean", "weighted_mean"):
        assert np.isnan(cbce.bce(Y, x, from_logits=True, reduction=reduction)), reduction


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize("name", ["sample_weight", "pos_weight"])
@pytest.mark.parametrize("shape", [(3,), (2, 4), (4, 2)], ids=["(3,)", "(2,4)-bigger-than-x", "(4,2)"])
def test_weights_not_broadcastable_to_x_raise(func, name, shape):
    """A weight that does not broadcast to x.shape raises ValueError naming it."""
    with pytest.raises(ValueError, match=name):
        _call(func, Y, X, from_logits=True, **{name: np.ones(shape)})


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", "elementwise_mean"],
                         ids=["avg", "MEAN", "empty", "elementwise_mean"])
def test_unknown_reduction_raises_listing_valid_ones(func, reduction):
    """An unknown reduction raises ValueError naming reduction and listing the four valid ones."""
    with pytest.raises(ValueError, match="reduction") as excinfo:
        _call(func, Y, X, from_logits=True, reduction=reduction)
    for valid in ("none", "sum", "mean", "weighted_mean"):
        assert valid in str(excinfo.value), str(excinfo.value)


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize("n_threads", [0, -1, 1.5, "2", 2.0], ids=["0", "-1", "1.5", "'2'", "2.0"])
def test_bad_n_threads_raises(func, n_threads):
    """n_threads 0, negative or not an int raises ValueError naming n_threads."""
    with pytest.raises(ValueError, match="n_threads"):
        _call(func, Y, X, from_logits=True, n_threads=n_threads)


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize("ls", [-0.1, 1.5, np.nan], ids=["-0.1", "1.5", "nan"])
def test_label_smoothing_out_of_range_raises(func, ls):
    """label_smoothing outside [0, 1] (or NaN) raises ValueError naming label_smoothing."""
    with pytest.raises(ValueError, match="label_smoothing"):
        _call(func, Y, X, from_logits=True, label_smoothing=ls)


@pytest.mark.parametrize("func", PROBABILITY_FUNCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.5, -1e-7, 0.7, np.nan], ids=["0", "0.5", "-1e-7", "0.7", "nan"])
def test_eps_out_of_range_raises(func, eps):
    """eps outside the open interval (0, 0.5) raises ValueError naming eps."""
    with pytest.raises(ValueError, match="eps"):
        _call(func, Y, P, eps=eps)


@pytest.mark.parametrize("func", PROBABILITY_FUNCTIONS)
def test_eps_with_logits_raises(func):
    """eps together with from_logits=True raises ValueError naming eps."""
    with pytest.raises(ValueError, match="eps"):
        _call(func, Y, X, from_logits=True, eps=1e-7)


def _bad_outs(x):
    """{id: out} arrays that are not a writable C-contiguous array of x's shape and compute dtype."""
    read_only = np.empty_like(x)
    read_only.flags.writeable = False
    return {
        "wrong-shape": np.empty(x.size + 1, x.dtype),
        "wrong-shape-2d": np.empty((1, x.size), x.dtype),
        "wrong-dtype-float32": np.empty(x.shape, np.float32),
        "wrong-dtype-int": np.empty(x.shape, np.int64),
        "non-contiguous": np.empty(2 * x.size, x.dtype)[::2],
        "read-only": read_only,
        "list": [0.0] * x.size,
    }


OUT_IDS = list(_bad_outs(X))
OUT_ARGS = {"bce_grad": ["out"], "bce_loss_and_grad": ["out"], "bce_grad_hess": ["grad_out", "hess_out"]}


@pytest.mark.parametrize("out_id", OUT_IDS)
@pytest.mark.parametrize(("func", "arg"), [(f, a) for f, args in OUT_ARGS.items() for a in args],
                         ids=lambda v: v)
def test_bad_out_raises(func, arg, out_id):
    """An out that is not a writable C-contiguous array of x's shape and dtype raises ValueError naming it."""
    out = _bad_outs(X)[out_id]
    with pytest.raises(ValueError, match=arg):
        _call(func, Y, X, from_logits=True, **{arg: out})


def test_fortran_out_for_2d_raises():
    """out must be C-contiguous: a Fortran-ordered 2-D out raises ValueError naming out."""
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="out"):
        cbce.bce_grad(np.zeros((3, 4)), x, from_logits=True, out=np.empty((3, 4), order="F"))


NON_NUMERIC = {
    "complex": np.array([0.5 + 0.5j, 0.5, 0.5, 0.5]),
    "object": np.array([0.5, 0.5, 0.5, 0.5], dtype=object),
    "object-None": np.array([0.5, None, 0.5, 0.5], dtype=object),
    "string": np.array(["0.5", "0.5", "0.5", "0.5"]),
    "bytes": np.array([b"a", b"b", b"c", b"d"]),
    "datetime": np.array(["2024-01-01"] * 4, dtype="datetime64[D]"),
    "str-list": ["a", "b", "c", "d"],
}


@pytest.mark.parametrize("func", ALL)
@pytest.mark.parametrize("kind", list(NON_NUMERIC))
@pytest.mark.parametrize("name", ["y_true", "y_pred", "sample_weight", "pos_weight"])
def test_non_numeric_input_raises_type_error(func, kind, name):
    """Complex, object, string and other non-numeric arrays raise TypeError naming the argument."""
    args = {"y_true": Y, "y_pred": P}
    kwargs = {}
    if name in args:
        args[name] = NON_NUMERIC[kind]
    else:
        kwargs[name] = NON_NUMERIC[kind]
    with pytest.raises(TypeError, match=name):
        _call(func, args["y_true"], args["y_pred"], from_logits=True, **kwargs)


# --- nothing lost: a call that raises leaves every input as it was ---------------------------------

BIG = 10**6


def _snapshot(*arrays):
    return [a.copy() for a in arrays]


def _unchanged(before, after):
    return all(np.array_equal(b, a, equal_nan=True) for b, a in zip(before, after))


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("func", ["bce_grad", "bce_loss_and_grad"])
def test_in_place_grad_with_bad_label_at_the_end_leaves_y_pred_unchanged(func, n_threads):
    """bce_grad(y, x, out=x) with a bad y_true at the end of 10^6 elements raises and leaves x as it was."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 3, BIG)
    y = rng.uniform(0, 1, BIG)
    y[-1] = 1.5
    before = _snapshot(x, y)
    with pytest.raises(ValueError, match="y_true"):
        _call(func, y, x, from_logits=True, out=x, n_threads=n_threads)
    assert _unchanged(before, [x, y]), "an input was modified by a call that raised"


@pytest.mark.parametrize("n_threads", [1, 2])
def test_in_place_grad_with_bad_probability_at_the_end_leaves_y_pred_unchanged(n_threads):
    """bce_grad(y, p, out=p) with p[-1] = 1.5 raises and leaves p (its other 10^6 - 1 values too) as it was."""
    rng = np.random.default_rng(8)
    p = rng.uniform(0, 1, BIG)
    p[-1] = 1.5
    y = rng.uniform(0, 1, BIG)
    before = _snapshot(p, y)
    with pytest.raises(ValueError, match="y_pred"):
        cbce.bce_grad(y, p, out=p, n_threads=n_threads)
    assert _unchanged(before, [p, y]), "an input was modified by a call that raised"


@pytest.mark.parametrize("error", ["y_true", "sample_weight", "reduction", "n_threads", "eps"])
def test_failed_call_leaves_all_inputs_unchanged(error):
    """Whatever the error, y_true, y_pred, the weights and out are as they were after the call raises."""
    rng = np.random.default_rng(9)
    n = 10_000
    y, p = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    w, pw = rng.uniform(0, 2, n), rng.uniform(0, 2, n)
    kwargs = {"sample_weight": w, "pos_weight": pw, "out": p}
    if error == "y_true":
        y[-1] = -1.0
    elif error == "sample_weight":
        kwargs["sample_weight"] = w[:-1]
    elif error == "reduction":
        kwargs["reduction"] = "bogus"
    elif error == "n_threads":
        kwargs["n_threads"] = 0
    else:
        kwargs["eps"] = 0.9
    before = _snapshot(y, p, w, pw)
    with pytest.raises(ValueError, match=error):
        cbce.bce_loss_and_grad(y, p, **kwargs)
    assert _unchanged(before, [y, p, w, pw]), "an input was modified by a call that raised"
