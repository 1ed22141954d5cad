"""Property-based tests against a slow model of the documented semantics (docs/semantics.md).

Inputs are drawn with `hypothesis.extra.numpy`: random shapes (0-d and empty included), dtypes
(float16/32/64 in both byte orders, ints, bools), memory layouts (negative and non-unit steps,
transposed storage, read-only), values (NaN, inf, subnormal, huge), weights and pos_weights of
every broadcastable shape or a scalar, all reductions, label smoothing, eps and n_threads.
cbce must agree with tests/_model.py within the documented accuracy, raise exactly what the model
says (type, argument name, value, index), and never touch its inputs.

CBCE_HYPOTHESIS_EXAMPLES sets the examples per property (default 150; tools/reliability.py runs
1000); the number each property ran goes to tests/_stats.py.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cbce
import _model as model
from _stats import record

EXAMPLES = int(os.environ.get("CBCE_HYPOTHESIS_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_runs = {}


@pytest.fixture(scope="module", autouse=True)
def _record_examples():
    """Report the number of examples each property ran (for tools/reliability.py)."""
    yield
    for name, count in _runs.items():
        record("properties", property=name, examples=count)


def _count(name):
    _runs[name] = _runs.get(name, 0) + 1


FLOATS = ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]
INTS = ["|b1", "|i1", "|u1", "<i4", ">i4", "<i8"]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)


def _float_elements(dtype, lo=None, hi=None, special=False, tiny=None):
    """Floats of dtype's width in [lo, hi] (ends often), or every float with special=True; with
    `tiny`, nonzero values stay above it (see _elements)."""
    width = 8 * np.dtype(dtype).itemsize
    if special:
        return st.floats(width=width, allow_nan=True, allow_infinity=True)
    if tiny is not None:
        tiny = max(float(np.dtype(dtype).type(tiny)), float(np.finfo(dtype).tiny))
        return st.one_of(st.sampled_from([lo, hi]), st.floats(tiny, hi, width=width))
    return st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, width=width))


def _elements(dtype, kind):
    """Values of `kind` ("labels", "probabilities", "logits", "weights") storable in dtype."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        return st.integers(0, 1) if kind in ("labels", "probabilities") else st.integers(0, 10) \
            if kind == "weights" else st.integers(max(-100, np.iinfo(dt).min), min(100, np.iinfo(dt).max))
    if kind == "logits":
        return _float_elements(dt, special=True)
    # Labels and weights are 0 or above 1e-30 and 1e-3: their products (pw*y, w*pw*y) must not
    # underflow, or no relative accuracy is possible (y = pw = 1e-300, x = -1e300: the loss is
    # 1e-300 and cbce's pw*y is 0). Predictions take every value, subnormals included.
    if kind == "weights":
        return _float_elements(dt, 0.0, 10.0, tiny=1e-3)
    if kind == "labels":
        return _float_elements(dt, 0.0, 1.0, tiny=1e-30)
    return _float_elements(dt, 0.0, 1.0)


@st.composite
def laid_out(draw, dtype, shape, elements):
    """An array of `shape`: stored in a random axis order, viewed with steps of +-1 or +-2 per
    axis, sometimes read-only."""
    steps = [draw(st.sampled_from([1, 1, 2, -1, -2])) for _ in shape]
    perm = draw(st.permutations(range(len(shape))))
    full = [s * abs(k) for s, k in zip(shape, steps)]
    stored = draw(hnp.arrays(dtype, tuple(full[p] for p in perm), elements=elements))
    view = stored.transpose(np.argsort(perm))[tuple(slice(None, None, k) for k in steps)]
    assert view.shape == tuple(shape)
    if draw(st.booleans()):
        view.setflags(write=False)
    return view


@st.composite
def weights(draw, shape, dtype_choices):
    """None, a Python float, or an array of a shape that broadcasts to `shape`."""
    kind = draw(st.sampled_from(["none", "scalar", "array", "array"]))
    if kind == "none":
        return None
    if kind == "scalar":
        return draw(st.sampled_from([0.0, 10.0]) | st.floats(1e-3, 10.0))
    wshape = draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=len(shape), min_side=0))
    # Where x has a side of 1 the drawn side may be anything; the broadcast must give x's shape.
    tail = shape[len(shape) - len(wshape):]
    wshape = tuple(1 if s == 1 else w for w, s in zip(wshape, tail))
    dtype = draw(st.sampled_from(dtype_choices))
    return draw(laid_out(dtype, wshape, _elements(dtype, "weights")))


@st.composite
def valid_calls(draw, from_logits=None):
    """(function name, y_true, y_pred, options) of a call with valid arguments."""
    if from_logits is None:
        from_logits = draw(st.booleans())
    func = draw(st.sampled_from(["bce", "bce_grad", "bce_loss_and_grad"]
                                + (["bce_grad_hess"] if from_logits else [])))
    shape = draw(SHAPES)
    xdtype = draw(st.sampled_from(FLOATS + ["|b1", "|u1", "<i4"] if not from_logits else FLOATS + ["<i4", "|i1"]))
    ydtype = draw(st.sampled_from(FLOATS + INTS))
    x = draw(laid_out(xdtype, shape, _elements(xdtype, "logits" if from_logits else "probabilities")))
    y = draw(laid_out(ydtype, shape, _elements(ydtype, "labels")))
    wdtypes = ["<f4", ">f8", "<f8", "<i4", "|b1"]
    options = {
        "sample_weight": draw(weights(shape, wdtypes)),
        "pos_weight": draw(weights(shape, wdtypes)),
        "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.1, 1.0]) | st.floats(0.0, 1.0)),
        "reduction": draw(st.sampled_from(model.REDUCTIONS)),
        "n_threads": draw(st.sampled_from([None, 1, 2, 3])),
    }
    if func != "bce_grad_hess":
        options["from_logits"] = from_logits
        if not from_logits:
            options["eps"] = draw(st.sampled_from([None, None, 1e-7, 1e-3]) | st.floats(1e-300, 0.49))
    return func, y, x, options


def _call(func, y, x, options):
    return getattr(cbce, func)(y, x, **options)


def _outputs(func, options, result):
    """{quantity: cbce's result} of a call."""
    none = options["reduction"] == "none"
    if func == "bce":
        return {"loss" if none else "value": result}
    if func == "bce_grad":
        return {"grad": result}
    if func == "bce_loss_and_grad":
        return {"loss" if none else "value": result[0], "grad": result[1]}
    return {"grad": result[0], "hess": result[1]}


def _snapshot(*arrays):
    return [None if a is None or np.isscalar(a) else np.array(a, copy=True) for a in arrays]


def _unchanged(before, arrays):
    return all(b is None or np.array_equal(b, np.asarray(a), equal_nan=True)
               for b, a in zip(before, arrays))


@PROPERTY
@given(call=valid_calls())
def test_agrees_with_the_model(call):
    """Valid arguments: cbce's values are within the documented accuracy of the model's."""
    _count("agrees_with_the_model")
    func, y, x, options = call
    opts = dict(options, from_logits=options.get("from_logits", True))
    want = model.expect(y, x, **opts)
    note(f"func={func} x={x!r} y={y!r} options={options!r}")
    assert not isinstance(want, model.Raises), want
    before = _snapshot(y, x, options["sample_weight"], options["pos_weight"])
    got = _outputs(func, options, _call(func, y, x, options))
    assert _unchanged(before, [y, x, options["sample_weight"], options["pos_weight"]])
    for name, value in got.items():
        if name == "value":
            assert isinstance(value, float)
            if np.isnan(want["value"]):
                assert np.isnan(value) or want["degenerate"], (value, want["value"])
            elif np.isinf(want["value"]):
                assert value == want["value"]
            else:
                assert abs(value - want["value"]) <= want["value_tol"], (value, want["value"])
            continue
        assert isinstance(value, np.ndarray) and value.shape == x.shape, (name, type(value))
        assert value.dtype == want["dtype"] and value.flags.c_contiguous, (name, value.dtype)
        if want["degenerate"] and name != "loss":
            continue                      # scaled by 1/0 (empty mean, zero weight sum): no spec
        bad = model.mismatches(value, want[name], want[name + "_tol"], want["dtype"])
        assert bad.size == 0, (name, [(tuple(i), value[tuple(i)], want[name][tuple(i)]) for i in bad[:3]])


@st.composite
def invalid_calls(draw):
    """A valid call, then one element made invalid (y_true, or y_pred for probabilities)."""
    from_logits = draw(st.booleans())
    func, y, x, options = draw(valid_calls(from_logits))
    assume(x.size > 0)
    target = "x" if not from_logits and draw(st.booleans()) else "y"
    arr = np.array(x if target == "x" else y, dtype=np.float64)
    idx = tuple(int(draw(st.integers(0, s - 1))) for s in arr.shape)
    arr[idx] = draw(st.sampled_from([np.nan, -0.5, 1.5, np.inf, -np.inf, 2.0, -1e-30]))
    if target == "x":
        x = arr
    else:
        y = arr
    in_place = func in ("bce_grad", "bce_loss_and_grad") and draw(st.booleans())
    return func, y, x, options, in_place


@PROPERTY
@given(call=invalid_calls())
def test_invalid_values_raise_what_the_model_says(call):
    """An invalid label or probability raises ValueError naming the argument, value and first
    index; inputs are untouched, also when out is y_pred itself."""
    _count("invalid_values_raise")
    func, y, x, options, in_place = call
    opts = dict(options, from_logits=options.get("from_logits", True))
    want = model.expect(y, x, **opts)
    assert isinstance(want, model.Raises), want
    if in_place:
        dtype = model.compute_dtype(x)
        x = np.array(x, dtype=dtype, order="C")
        options = dict(options, out=x)
    before = _snapshot(y, x)
    with pytest.raises(want.kind) as info:
        _call(func, y, x, options)
    for part in want.parts:
        assert part in str(info.value), (part, str(info.value))
    assert _unchanged(before, [y, x])


ANY_DTYPES = FLOATS + INTS + ["<c16", "|O", "<U3", "<M8[s]", "|V8"]


@st.composite
def anything(draw, shape):
    dtype = draw(st.sampled_from(ANY_DTYPES))
    if np.dtype(dtype).kind in "OUMV":
        return np.zeros(shape, dtype=dtype)
    arr = draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(np.dtype(dtype))))
    return arr


OPTION_VALUES = {
    "reduction": st.sampled_from(list(model.REDUCTIONS) + ["avg", None, 3]),
    "n_threads": st.sampled_from([None, 1, 2, 0, -1, 2.0, True, "2", np.int64(3)]),
    "label_smoothing": st.sampled_from([0.0, 0.5, 1.0, -0.1, 1.5, np.nan, True, "0.1", np.float32(0.25)]),
    "eps": st.sampled_from([None, 1e-7, 0.0, 0.5, -1.0, np.nan, True, "1e-7", np.float32(1e-3)]),
    "from_logits": st.sampled_from([True, False, 1, None, np.bool_(True)]),
}


@st.composite
def hostile_calls(draw):
    func = draw(st.sampled_from(["bce", "bce_grad", "bce_loss_and_grad", "bce_grad_hess"]))
    shape = draw(SHAPES)
    yshape = draw(st.just(shape) | SHAPES)
    x = draw(anything(shape))
    y = draw(anything(yshape))
    options = {k: draw(v) for k, v in OPTION_VALUES.items() if draw(st.booleans())}
    for name in ("sample_weight", "pos_weight"):
        if draw(st.booleans()):
            wshape = draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=len(shape) + 1, min_side=0) | SHAPES)
            options[name] = draw(anything(wshape))
    if func == "bce_grad_hess":
        options.pop("from_logits", None)
        options.pop("eps", None)
    return func, y, x, options


@PROPERTY
@given(call=hostile_calls())
def test_arbitrary_arguments_raise_only_documented_errors(call):
    """Any dtype, shape, value and option: a result of the right shape, or TypeError/ValueError
    naming an argument; never a crash or another exception."""
    _count("arbitrary_arguments")
    func, y, x, options = call
    note(f"func={func} x={x!r} y={y!r} options={options!r}")
    names = ("y_true", "y_pred", "sample_weight", "pos_weight", "reduction", "n_threads",
             "label_smoothing", "eps", "from_logits")
    try:
        with np.errstate(all="ignore"):
            result = _call(func, y, x, options)
    except (TypeError, ValueError) as exc:
        assert any(n in str(exc) for n in names), str(exc)
        return
    opts = dict(options, from_logits=options.get("from_logits", func == "bce_grad_hess"))
    want = model.expect(y, x, **opts)
    assert not isinstance(want, model.Raises), f"expected {want}"
    for name, value in _outputs(func, {"reduction": options.get("reduction", "mean")}, result).items():
        if name != "value":
            assert value.shape == np.shape(x) and value.dtype == want["dtype"]


@st.composite
def big_layouts(draw):
    """Arrays above the parallel threshold (16384 elements) in a random 1-D or 2-D layout."""
    seed = draw(st.integers(0, 2**32 - 1))
    rows = draw(st.sampled_from([1, 3, 17, 129]))
    cols = draw(st.integers(34000 // rows, 70000 // rows))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    step = draw(st.sampled_from([1, 2, -1, -3]))
    transposed = draw(st.booleans())
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 5, (cols * abs(step), rows) if transposed else (rows, cols * abs(step))).astype(dtype)
    x = (base.T if transposed else base)[:, ::step]
    y = (rng.uniform(0, 1, x.shape) < 0.3).astype(dtype)
    w = draw(st.sampled_from([None, "row", "col", "full"]))
    w = {None: None, "row": rng.uniform(0, 2, (1, x.shape[1])), "col": rng.uniform(0, 2, (x.shape[0], 1)),
         "full": rng.uniform(0, 2, x.shape)[::-1]}[w]
    return y, x, w, draw(st.sampled_from(["sum", "mean", "weighted_mean", "none"]))


@settings(PROPERTY, max_examples=max(10, EXAMPLES // 5))
@given(case=big_layouts())
def test_layout_and_threads_never_change_a_bit(case):
    """Above the parallel threshold, every thread count and the contiguous copy give bitwise the
    same loss, gradient and hessian."""
    _count("layout_and_threads_bitwise")
    y, x, w, reduction = case
    ref = [cbce.bce_loss_and_grad(np.ascontiguousarray(y), np.ascontiguousarray(x), from_logits=True,
                                  sample_weight=w, reduction=reduction, n_threads=1),
           cbce.bce_grad_hess(y, np.ascontiguousarray(x), sample_weight=w, reduction=reduction, n_threads=1)]
    for nt in (2, 3, None):
        got = [cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w, reduction=reduction, n_threads=nt),
               cbce.bce_grad_hess(y, x, sample_weight=w, reduction=reduction, n_threads=nt)]
        flat_ref = [np.asarray(v) for pair in ref for v in pair]
        flat_got = [np.asarray(v) for pair in got for v in pair]
        for r, g in zip(flat_ref, flat_got):
            assert r.tobytes() == g.tobytes(), nt
