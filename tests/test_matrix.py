"""dtype × layout × out × weights matrix against the NumPy reference (docs/semantics.md).

float32 and float64 results are compared with tests/_reference.py (float64, inputs rounded to the
compute dtype). The converted dtypes are compared with cbce itself on the converted array: float16
is computed and returned as float32, ints and bools as float64, bit for bit.
"""
import numpy as np
import pytest

import cbce
import _reference as ref

SHAPE_2D = (20, 9)
RTOL = {np.dtype(np.float64): 1e-13, np.dtype(np.float32): 32 * float(np.finfo(np.float32).eps)}

LAYOUTS = ["contiguous-1d", "strided-1d", "reversed-1d", "c-2d", "fortran-2d", "strided-2d", "0-d"]
WEIGHTS_BY_NDIM = {
    0: ["none", "scalar"],
    1: ["none", "scalar", "full"],
    2: ["none", "scalar", "per-row", "per-column", "full"],
}
# (function, its outputs); bce_grad_hess takes logits only.
FUNCTIONS = {
    "bce-none": ("loss",),
    "bce-weighted_mean": ("loss",),
    "bce_grad": ("grad",),
    "bce_loss_and_grad": ("loss", "grad"),
    "bce_grad_hess": ("grad", "hess"),
}
TAKES_OUT = {"bce_grad", "bce_loss_and_grad", "bce_grad_hess"}


def _layout(base, layout):
    """A view of (a copy of) `base` values in the given memory layout, values in the same order."""
    if layout == "0-d":
        return np.array(base.ravel()[0])
    if layout.endswith("1d"):
        flat = base.ravel()
        if layout == "contiguous-1d":
            return flat.copy()
        if layout == "strided-1d":
            holder = np.empty(2 * flat.size, base.dtype)
            holder[::2] = flat
            return holder[::2]
        holder = flat[::-1].copy()
        return holder[::-1]
    grid = base.reshape(SHAPE_2D)
    if layout == "c-2d":
        return grid.copy()
    if layout == "fortran-2d":
        return np.asfortranarray(grid)
    holder = np.empty((SHAPE_2D[0], 3 * SHAPE_2D[1]), base.dtype)
    holder[:, ::3] = grid
    return holder[:, ::3]


def _weight(kind, x_shape, rng, low, high):
    if kind == "none":
        return None
    if kind == "scalar":
        return float(rng.uniform(low, high))
    shape = {"per-row": (x_shape[0], 1), "per-column": (x_shape[-1],), "full": x_shape}[kind]
    return rng.uniform(low, high, shape)


def _inputs(rng, dtype, layout, weights, from_logits):
    n = SHAPE_2D[0] * SHAPE_2D[1]
    if np.dtype(dtype) == np.bool_:
        x = rng.uniform(0, 1, n) < 0.5
    elif np.dtype(dtype).kind in "iu":
        x = (rng.integers(-3, 4, n) if from_logits else rng.integers(0, 2, n)).astype(dtype)
    else:
        x = (rng.normal(0, 2, n) if from_logits else rng.uniform(0.02, 0.98, n)).astype(dtype)
    y = rng.uniform(0, 1, n)
    y[::3] = 0
    y[1::3] = 1
    x, y = _layout(x, layout), _layout(y, layout)
    kwargs = {"from_logits": from_logits}
    sw, pw = _weight(weights, x.shape, rng, 0.2, 3.0), _weight(weights, x.shape, rng, 0.5, 4.0)
    if sw is not None:
        kwargs.update(sample_weight=sw, pos_weight=pw)
    return y, x, kwargs


def _call(func, y, x, kwargs, with_out):
    """Call `func`; return ({output name: value}, {output name: the out array passed})."""
    compute = ref.compute_dtype(x)
    outs = {}
    if func.startswith("bce-"):
        return {"loss": cbce.bce(y, x, reduction=func.split("-", 1)[1], **kwargs)}, outs
    if func == "bce_grad_hess":
        kw = {k: v for k, v in kwargs.items() if k != "from_logits"}
        if with_out:
            outs = {"grad": np.empty(x.shape, compute), "hess": np.empty(x.shape, compute)}
            kw.update(grad_out=outs["grad"], hess_out=outs["hess"])
        grad, hess = cbce.bce_grad_hess(y, x, reduction="weighted_mean", **kw)
        return {"grad": grad, "hess": hess}, outs
    kw = dict(kwargs)
    if with_out:
        outs = {"grad": np.empty(x.shape, compute)}
        kw["out"] = outs["grad"]
    if func == "bce_grad":
        return {"grad": cbce.bce_grad(y, x, reduction="weighted_mean", **kw)}, outs
    loss, grad = cbce.bce_loss_and_grad(y, x, reduction="weighted_mean", **kw)
    return {"loss": loss, "grad": grad}, outs


def _reference(func, y, x, kwargs):
    reduction = "none" if func == "bce-none" else "weighted_mean"
    kw = dict(kwargs)
    if func == "bce_grad_hess":
        kw["from_logits"] = True
    q = ref.elementwise(y, x, **{k: v for k, v in kw.items()})
    factor = ref.scale_factor(reduction, q["weight"])
    return {
        "loss": ref.reduce_loss(q["loss"], reduction, q["weight"]),
        "grad": q["grad"] * factor,
        "hess": None if q["hess"] is None else q["hess"] * factor,
        "grad_scale": q["grad_scale"] * abs(factor),
    }


def _check_types(func, got, outs, x):
    compute = ref.compute_dtype(x)
    for name, value in got.items():
        if name == "loss" and func != "bce-none":
            assert type(value) is float, f"reduced loss is {type(value)}, not float"
            continue
        assert isinstance(value, np.ndarray), f"{name} is {type(value)}"
        assert value.shape == x.shape, f"{name} shape {value.shape} != {x.shape}"
        assert value.dtype == compute, f"{name} dtype {value.dtype} != {compute}"
        if name in outs:
            assert value is outs[name], f"{name}: the out array is not returned as the same object"


def _cases(dtypes, weight_filter=None):
    cases = []
    for dtype in dtypes:
        for layout in LAYOUTS:
            ndim = 0 if layout == "0-d" else int(layout[-2])
            for weights in WEIGHTS_BY_NDIM[ndim]:
                if weight_filter and weights not in weight_filter:
                    continue
                for func in FUNCTIONS:
                    for from_logits in ([True] if func == "bce_grad_hess" else [True, False]):
                        for with_out in ([False, True] if func in TAKES_OUT else [False]):
                            ident = "-".join([np.dtype(dtype).name, layout, f"w:{weights}", func,
                                              "logits" if from_logits else "probabilities",
                                              "out" if with_out else "no-out"])
                            cases.append(pytest.param(dtype, layout, weights, func, from_logits, with_out,
                                                      id=ident))
    return cases


ARGNAMES = ("dtype", "layout", "weights", "func", "from_logits", "with_out")


@pytest.mark.parametrize(ARGNAMES, _cases([np.float64, np.float32]))
def test_matches_reference(dtype, layout, weights, func, from_logits, with_out, rng):
    """float64/float32 results have x's shape and dtype, fill and return out, and match the reference."""
    y, x, kwargs = _inputs(rng, dtype, layout, weights, from_logits)
    got, outs = _call(func, y, x, kwargs, with_out)
    _check_types(func, got, outs, x)
    expected = _reference(func, y, x, kwargs)
    rtol = RTOL[np.dtype(dtype)]
    for name, value in got.items():
        if name == "grad":
            err = np.abs(value.astype(np.float64) - expected["grad"])
            assert np.all(err <= rtol * expected["grad_scale"]), f"grad off by up to {err.max():.3g}"
        else:
            np.testing.assert_allclose(value, expected[name], rtol=rtol, atol=0, err_msg=name)


@pytest.mark.parametrize(ARGNAMES, _cases([np.float16, np.int64, np.bool_], weight_filter={"none", "full"}))
def test_converted_dtypes_compute_in_float32_or_float64(dtype, layout, weights, func, from_logits, with_out, rng):
    """float16 is computed and returned as float32, ints and bools as float64: same bits as converting first."""
    y, x, kwargs = _inputs(rng, dtype, layout, weights, from_logits)
    got, outs = _call(func, y, x, kwargs, with_out)
    _check_types(func, got, outs, x)
    converted = np.ascontiguousarray(x.astype(ref.compute_dtype(x)))
    expected, _ = _call(func, np.ascontiguousarray(y), converted,
                        {k: (np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()},
                        with_out=False)
    for name, value in got.items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)


Y_TRUE_FORMS = {
    "bool": lambda y: y.astype(bool),
    "int8": lambda y: y.astype(np.int8),
    "int64": lambda y: y.astype(np.int64),
    "uint8": lambda y: y.astype(np.uint8),
    "float32": lambda y: y.astype(np.float32),
    "list": lambda y: y.tolist(),
}


@pytest.mark.parametrize("x_dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("form", list(Y_TRUE_FORMS))
def test_y_true_dtypes_and_lists_give_the_same_result(form, x_dtype, rng):
    """0/1 labels as bool, int, float32 or a Python list give what float64 labels give."""
    y = (rng.uniform(0, 1, 50) < 0.3).astype(np.float64)
    x = rng.normal(0, 2, 50).astype(x_dtype)
    expected = cbce.bce_loss_and_grad(y, x, from_logits=True, reduction="none")
    got = cbce.bce_loss_and_grad(Y_TRUE_FORMS[form](y), x, from_logits=True, reduction="none")
    for g, e in zip(got, expected):
        assert g.dtype == np.dtype(x_dtype)
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
def test_python_scalars_and_lists_are_accepted(from_logits):
    """Python scalars and lists work as inputs and give float64 results."""
    loss = cbce.bce(1.0, 0.75, from_logits=from_logits)
    assert type(loss) is float
    assert loss == cbce.bce(np.array(1.0), np.array(0.75), from_logits=from_logits)
    grad = cbce.bce_grad([1.0, 0.0], [0.75, 0.25], from_logits=from_logits)
    assert grad.dtype == np.float64 and grad.shape == (2,)


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
def test_float32_agrees_with_float64(from_logits, rng):
    """float32 results are within float32 tolerance of float64 results on the same (rounded) inputs."""
    n = 1000
    x32 = (rng.normal(0, 3, n) if from_logits else rng.uniform(0.01, 0.99, n)).astype(np.float32)
    y = rng.uniform(0, 1, n).astype(np.float32)
    w = rng.uniform(0.5, 2, n).astype(np.float32)
    x64, y64, w64 = (a.astype(np.float64) for a in (x32, y, w))
    rtol = RTOL[np.dtype(np.float32)]
    opts = {"from_logits": from_logits, "pos_weight": 2.5}
    for reduction in ("none", "sum", "mean", "weighted_mean"):
        l32, g32 = cbce.bce_loss_and_grad(y, x32, sample_weight=w, reduction=reduction, **opts)
        l64, g64 = cbce.bce_loss_and_grad(y64, x64, sample_weight=w64, reduction=reduction, **opts)
        np.testing.assert_allclose(l32, l64, rtol=rtol, atol=0, err_msg=reduction)
        scale = ref.grad_scale(y64, x64, sample_weight=w64, reduction=reduction, **opts)
        assert np.all(np.abs(g32 - g64) <= rtol * scale), reduction
    if from_logits:
        g32, h32 = cbce.bce_grad_hess(y, x32, sample_weight=w, pos_weight=2.5)
        g64, h64 = cbce.bce_grad_hess(y64, x64, sample_weight=w64, pos_weight=2.5)
        np.testing.assert_allclose(h32, h64, rtol=rtol, atol=0)
