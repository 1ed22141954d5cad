"""cbce.torch as PyTorch operators: torch.func transforms, forward AD, batched and second
derivatives, float16/bfloat16, autocast and torch.compile, each checked against torch's own loss
(docs/guide/pytorch.md). Skipped where torch is not installed.
"""
import math

import pytest

torch = pytest.importorskip("torch")
import cbce.torch as ct  # noqa: E402  (after the importorskip)
from torch.autograd import forward_ad as fwAD  # noqa: E402

F = torch.nn.functional
F64 = torch.float64
# float64 losses: torch and cbce both within a few ulp of the exact value, on values O(1).
TOL64 = dict(rtol=1e-10, atol=1e-12)
# Second derivatives of probabilities: 1/(x(1-x)) - (x-y)(1-2x)/(x(1-x))^2 cancels, and torch
# arranges the terms differently: up to ~1e-10 relative apart near x = 0.02.
TOL2 = dict(rtol=1e-9, atol=1e-12)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _logits(shape, seed=0, dtype=F64):
    return (torch.randn(shape, generator=_gen(seed), dtype=F64) * 2).to(dtype)


def _labels(shape, seed=1):
    return torch.rand(shape, generator=_gen(seed), dtype=F64)


W5 = torch.rand(5, generator=_gen(7), dtype=F64) + 0.5
# Targets built once: random calls inside vmap (gradcheck's batched checks) are refused.
Y45 = _labels((4, 5))
P452 = _labels((4, 5, 2)).softmax(1)
# (name, cbce loss, torch loss, input maker): each loss of one tensor, with its targets fixed.
CASES = {
    "bce_logits": (lambda x: ct.binary_cross_entropy_with_logits(x, Y45, pos_weight=W5),
                   lambda x: F.binary_cross_entropy_with_logits(x, Y45, pos_weight=W5),
                   lambda: _logits((4, 5))),
    "bce_logits_none": (lambda x: ct.binary_cross_entropy_with_logits(x, Y45, reduction="none"),
                        lambda x: F.binary_cross_entropy_with_logits(x, Y45, reduction="none"),
                        lambda: _logits((4, 5))),
    "bce_probs": (lambda x: ct.binary_cross_entropy(x, Y45, weight=W5, reduction="sum"),
                  lambda x: F.binary_cross_entropy(x, Y45, weight=W5, reduction="sum"),
                  lambda: torch.sigmoid(_logits((4, 5)))),
    "ce_indices": (lambda x: ct.cross_entropy(x, torch.tensor([0, 4, -100, 2]), weight=W5, label_smoothing=0.1),
                   lambda x: F.cross_entropy(x, torch.tensor([0, 4, -100, 2]), weight=W5, label_smoothing=0.1),
                   lambda: _logits((4, 5))),
    "ce_probs_none": (lambda x: ct.cross_entropy(x, P452, reduction="none"),
                      lambda x: F.cross_entropy(x, P452, reduction="none"),
                      lambda: _logits((4, 5, 2))),
}
IDS = list(CASES)


def _focal_reference(x, y, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision's sigmoid_focal_loss formula, in torch ops."""
    p = torch.sigmoid(x)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none") * (1 - (p * y + (1 - p) * (1 - y))) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_operators_are_registered():
    """Importing cbce.torch registers the cbce:: operators, with fake kernels for tracing."""
    for name in ("bce_loss_and_grad", "bce_grad_hess", "ce_loss_and_grad"):
        op = getattr(torch.ops.cbce, name).default
        assert torch._C._dispatch_has_kernel_for_dispatch_key(op.name(), "CPU")
        assert torch._C._dispatch_has_kernel_for_dispatch_key(op.name(), "Autograd")
    x = torch.empty(3, 4, device="meta")
    loss, grad = torch.ops.cbce.ce_loss_and_grad(x, torch.empty(3, dtype=torch.long, device="meta"),
                                                 None, True, -100, 0.0, 0)
    assert loss.shape == (3,) and grad.shape == (3, 4)


def test_forward_ad_tangent_of_the_issue_repro():
    """forward_ad gives the tangent -0.0543 for x = [0.5, -1], t = [1, 0], not None."""
    x = torch.tensor([0.5, -1.0], dtype=F64)
    t = torch.tensor([1.0, 0.0], dtype=F64)
    with fwAD.dual_level():
        out = ct.binary_cross_entropy_with_logits(fwAD.make_dual(x, torch.ones_like(x)), t)
        tangent = fwAD.unpack_dual(out).tangent
    expected = ((torch.sigmoid(x) - t) / 2).sum()
    torch.testing.assert_close(tangent, expected, **TOL64)


@pytest.mark.parametrize("case", IDS)
def test_gradcheck_forward_ad_and_batched(case):
    """gradcheck with forward AD, batched backward and batched forward grads."""
    ours, _, make = CASES[case]
    x = make().requires_grad_(True)
    assert torch.autograd.gradcheck(ours, (x,), check_forward_ad=True, check_batched_grad=True,
                                    check_batched_forward_grad=True)


@pytest.mark.parametrize("case", IDS)
def test_gradgradcheck(case):
    """Second derivatives: reverse over reverse and forward over reverse, against finite
    differences of cbce's own gradient."""
    ours, _, make = CASES[case]
    x = make().requires_grad_(True)
    assert torch.autograd.gradgradcheck(ours, (x,), check_fwd_over_rev=True,
                                        check_rev_over_rev=True)


@pytest.mark.parametrize("case", IDS)
def test_func_transforms_match_torch(case):
    """torch.func jvp, jacrev, jacfwd and hessian give torch's values."""
    ours, theirs, make = CASES[case]
    x = make()
    v = torch.randn(x.shape, generator=_gen(3), dtype=F64)
    for fn in (torch.func.jacrev, torch.func.jacfwd):
        torch.testing.assert_close(fn(ours)(x), fn(theirs)(x), **TOL64)
    torch.testing.assert_close(torch.func.hessian(ours)(x), torch.func.hessian(theirs)(x), **TOL2)
    o_val, o_tan = torch.func.jvp(ours, (x,), (v,))
    t_val, t_tan = torch.func.jvp(theirs, (x,), (v,))
    torch.testing.assert_close(o_val, t_val, **TOL64)
    torch.testing.assert_close(o_tan, t_tan, **TOL64)


@pytest.mark.parametrize("case", IDS)
def test_vmap_and_grad_match_torch(case):
    """vmap over a batch of inputs (each reduced on its own) and vmap(grad) give torch's."""
    ours, theirs, make = CASES[case]
    xs = torch.stack([make() * s for s in (1.0, 0.9, 0.8)])  # probabilities stay in [0, 1]
    torch.testing.assert_close(torch.vmap(ours)(xs), torch.vmap(theirs)(xs), **TOL64)
    scalar = (lambda f: (lambda x: f(x).sum()))
    torch.testing.assert_close(torch.vmap(torch.func.grad(scalar(ours)))(xs),
                               torch.vmap(torch.func.grad(scalar(theirs)))(xs), **TOL64)


@pytest.mark.parametrize("case", IDS)
def test_create_graph_hessian_and_batched_grads_match_torch(case):
    """autograd.functional.hessian, create_graph=True and is_grads_batched=True: torch's."""
    ours, theirs, make = CASES[case]
    x = make()
    scalar = (lambda f: (lambda z: f(z).sum()))
    torch.testing.assert_close(torch.autograd.functional.hessian(scalar(ours), x),
                               torch.autograd.functional.hessian(scalar(theirs), x), **TOL2)
    results = []
    for f in (ours, theirs):
        xr = x.clone().requires_grad_(True)
        out = f(xr)
        eye = torch.eye(out.numel(), dtype=F64).reshape((out.numel(),) + out.shape)
        (jac,) = torch.autograd.grad(out, xr, eye, is_grads_batched=True, create_graph=True)
        (gg,) = torch.autograd.grad(jac.sum(), xr)
        results.append((jac, gg))
    torch.testing.assert_close(results[0][0], results[1][0], **TOL64)
    torch.testing.assert_close(results[0][1], results[1][1], **TOL2)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha", [0.25, -1.0, 0.9])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_loss_matches_torchvision_formula(gamma, alpha, reduction):
    """sigmoid_focal_loss: torchvision's values and gradients (alpha < 0: no alpha)."""
    x = _logits((6, 4))
    y = (_labels((6, 4)) < 0.4).to(F64)
    xo, xt = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    lo = ct.sigmoid_focal_loss(xo, y, alpha=alpha, gamma=gamma, reduction=reduction)
    lt = _focal_reference(xt, y, alpha=alpha, gamma=gamma, reduction=reduction)
    torch.testing.assert_close(lo, lt, **TOL64)
    lo.sum().backward()
    lt.sum().backward()
    torch.testing.assert_close(xo.grad, xt.grad, **TOL64)


def test_sigmoid_focal_loss_defaults_are_torchvisions():
    """alpha=0.25, gamma=2, reduction="none", as torchvision.ops.sigmoid_focal_loss."""
    x, y = _logits((5,)), (_labels((5,)) < 0.5).to(F64)
    torch.testing.assert_close(ct.sigmoid_focal_loss(x, y), _focal_reference(x, y), **TOL64)


def test_focal_options_on_the_module_match_the_function():
    """BCEWithLogitsLoss(gamma, alpha) is sigmoid_focal_loss with its reduction; the state_dict
    stays torch's."""
    x, y = _logits((5, 3)), (_labels((5, 3)) < 0.5).to(F64)
    module = ct.BCEWithLogitsLoss(gamma=2.0, alpha=0.25)
    torch.testing.assert_close(module(x, y), ct.sigmoid_focal_loss(x, y, reduction="mean"))
    assert module.state_dict().keys() == torch.nn.BCEWithLogitsLoss().state_dict().keys()


@pytest.mark.parametrize("bad", [{"gamma": -1.0}, {"alpha": 1.5}, {"reduction": "avg"}], ids=str)
def test_focal_bad_options_raise(bad):
    """A negative gamma, alpha above 1 or an unknown reduction raises ValueError naming it."""
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        ct.sigmoid_focal_loss(_logits(3), _labels(3), **bad)


CE_SHAPES = {"unbatched": (5,), "NC": (6, 5), "NCd1d2": (4, 5, 3, 2)}


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target", ["indices", "indices_ignored", "probabilities"])
@pytest.mark.parametrize("shape", list(CE_SHAPES))
def test_cross_entropy_module_matches_torch(shape, target, reduction, weighted, label_smoothing):
    """CrossEntropyLoss: torch's loss and input gradient for every target kind and shape."""
    shape = CE_SHAPES[shape]
    x = _logits(shape)
    sample_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if target == "probabilities":
        y = _labels(shape).softmax(1 if len(shape) > 1 else 0)
    else:
        y = torch.randint(0, 5, sample_shape, generator=_gen(4))
        if target == "indices_ignored" and y.dim():
            y.view(-1)[::3] = 7
    kwargs = dict(weight=W5 if weighted else None, reduction=reduction,
                  label_smoothing=label_smoothing)
    if target != "probabilities":  # torch refuses an ignore_index with probabilities
        kwargs["ignore_index"] = 7
    ours, theirs = ct.CrossEntropyLoss(**kwargs), torch.nn.CrossEntropyLoss(**kwargs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    xo, xt = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    lo, lt = ours(xo, y), theirs(xt, y)
    torch.testing.assert_close(lo, lt, **TOL64)
    lo.sum().backward()
    lt.sum().backward()
    torch.testing.assert_close(xo.grad, xt.grad, **TOL64)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("loss", ["bce_logits", "bce_probs", "ce"])
def test_half_precision_computes_in_float32_and_returns_input_dtype(loss, dtype):
    """float16/bfloat16 input: torch's result dtype and value (computed in float32), and a
    gradient in input's dtype."""
    ours, theirs, x, y = _half_case(loss, dtype)
    xo, xt = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    lo, lt = ours(xo, y), theirs(xt, y)
    assert lo.dtype == lt.dtype
    # float32 arithmetic on both sides, rounded to the half type: one unit of its last place.
    torch.testing.assert_close(lo.float(), lt.float(), rtol=torch.finfo(dtype).eps, atol=0)
    lo.backward()
    lt.backward()
    assert xo.grad.dtype == dtype
    torch.testing.assert_close(xo.grad.float(), xt.grad.float(),
                               rtol=2 * torch.finfo(dtype).eps, atol=1e-4)


def _half_case(loss, dtype):
    x = _logits((16, 5), dtype=torch.float32)
    if loss == "ce":
        return ct.cross_entropy, F.cross_entropy, x.to(dtype), torch.randint(0, 5, (16,), generator=_gen(5))
    y = (_labels((16, 5)) < 0.5).to(dtype)
    if loss == "bce_probs":
        return ct.binary_cross_entropy, F.binary_cross_entropy, torch.sigmoid(x).to(dtype), y
    return ct.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, x.to(dtype), y


@pytest.mark.parametrize("input_dtype", [torch.bfloat16, torch.float32], ids=str)
@pytest.mark.parametrize("loss", ["bce_logits", "bce_probs", "ce"])
def test_autocast_result_dtype_is_torchs(loss, input_dtype):
    """Under torch.autocast("cpu", bfloat16) each loss returns the dtype torch's does."""
    ours, theirs, x, y = _half_case(loss, input_dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lo, lt = ours(x, y), theirs(x, y)
    assert lo.dtype == lt.dtype
    torch.testing.assert_close(lo.float(), lt.float(), rtol=1e-2, atol=0)


def test_extreme_logit_is_exact_where_torch_rounds_to_zero():
    """Deliberate difference: at logit 40, target 1, the BCE gradient is -e^-40/(1 + e^-40) =
    -4.25e-18 in cbce and 0 in torch (its backward computes sigmoid(x) - 1); the 2-class
    cross-entropy at margin 40 is log1p(e^-40) = 4.25e-18 in cbce and 0 in torch."""
    x = torch.tensor([40.0], dtype=F64, requires_grad=True)
    y = torch.tensor([1.0], dtype=F64)
    loss = ct.binary_cross_entropy_with_logits(x, y, reduction="sum")
    loss.backward()
    assert x.grad.item() == pytest.approx(-1 / (1 + math.exp(40.0)), rel=1e-15)
    xt = x.detach().clone().requires_grad_(True)
    F.binary_cross_entropy_with_logits(xt, y, reduction="sum").backward()
    assert xt.grad.item() == 0.0
    logits, label = torch.tensor([[0.0, 40.0]], dtype=F64), torch.tensor([1])
    assert ct.cross_entropy(logits, label).item() == pytest.approx(math.log1p(math.exp(-40.0)),
                                                                    rel=1e-15)
    assert F.cross_entropy(logits, label).item() == 0.0


def test_target_outside_unit_interval_raises_where_torch_does_not():
    """Deliberate difference: a logits target of 1.5 raises ValueError naming target; torch
    computes a number."""
    x, y = torch.zeros(3), torch.tensor([0.0, 1.5, 1.0])
    F.binary_cross_entropy_with_logits(x, y)
    with pytest.raises(ValueError, match="target"):
        ct.binary_cross_entropy_with_logits(x, y)


# --- PyTorch's OpInfo sample inputs (torch.testing._internal.common_methods_invocations) -----

def _op_samples(name):
    pytest.importorskip("expecttest")  # common_utils, imported by the OpInfo database, needs it
    from torch.testing._internal.common_methods_invocations import op_db
    (op,) = [o for o in op_db if o.name == name and o.variant_test_name == ""]
    return list(op.sample_inputs("cpu", F64, requires_grad=True))


OPINFO = {"nn.functional.binary_cross_entropy": (ct.binary_cross_entropy, F.binary_cross_entropy),
          "nn.functional.binary_cross_entropy_with_logits":
              (ct.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits),
          "nn.functional.cross_entropy": (ct.cross_entropy, F.cross_entropy)}


@pytest.mark.parametrize("name", list(OPINFO))
def test_opinfo_samples_values_first_and_second_derivatives_match_torch(name):
    """Every OpInfo sample: torch's loss, gradient and hessian-vector product. Targets and
    weights are detached: cbce differentiates with respect to input only."""
    ours, theirs = OPINFO[name]
    samples = _op_samples(name)
    assert samples
    for s in samples:
        args = [a.detach() if isinstance(a, torch.Tensor) else a for a in s.args]
        kwargs = {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in s.kwargs.items()}
        results = []
        for f in (ours, theirs):
            x = s.input.detach().clone().requires_grad_(True)
            out = f(x, *args, **kwargs)
            (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
            v = torch.linspace(-1, 1, g.numel(), dtype=F64).reshape(g.shape)
            (hv,) = torch.autograd.grad((g * v).sum(), x)
            results.append((out, g, hv))
        for got, want, tol in zip(*results, (TOL64, TOL64, TOL2)):
            torch.testing.assert_close(got, want, **tol, msg=lambda m: f"{name} {s}: {m}")


# --- torch.compile -----------------------------------------------------------------------------

COMPILE_CASES = {
    "BCEWithLogitsLoss": (lambda: ct.BCEWithLogitsLoss(pos_weight=torch.full((3,), 2.0)),
                          lambda: torch.nn.BCEWithLogitsLoss(pos_weight=torch.full((3,), 2.0)), "binary"),
    "BCELoss": (ct.BCELoss, torch.nn.BCELoss, "probs"),
    "CrossEntropyLoss": (lambda: ct.CrossEntropyLoss(label_smoothing=0.1),
                         lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.1), "classes"),
    "sigmoid_focal_loss": (lambda: (lambda o, y: ct.sigmoid_focal_loss(o, y, reduction="mean")),
                           lambda: (lambda o, y: _focal_reference(o, y, reduction="mean")), "binary"),
}


@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_compiled_training_step_has_no_graph_break_and_torchs_values(case):
    """torch.compile(fullgraph=True) of model + cbce loss: 0 graph breaks (dynamo's explain),
    and the loss and the weight gradient of the same step with torch's loss."""
    make_ours, make_theirs, kind = COMPILE_CASES[case]
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)
    x = torch.randn(32, 8)
    y = torch.randint(0, 3, (32,)) if kind == "classes" else (torch.rand(32, 3) < 0.4).float()
    act = torch.sigmoid if kind == "probs" else (lambda o: o)

    def step(loss_fn):
        return lambda x, y: loss_fn(act(model(x)), y)

    torch._dynamo.reset()
    explained = torch._dynamo.explain(step(make_ours()))(x, y)
    assert explained.graph_break_count == 0, explained.break_reasons
    losses, grads = [], []
    for make in (make_ours, make_theirs):
        model.zero_grad()
        compiled = torch.compile(step(make()), fullgraph=True, backend="aot_eager")
        loss = compiled(x, y)
        loss.backward()
        losses.append(loss.detach())
        grads.append(model.weight.grad.clone())
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_ignore_index_with_probabilities_raises_as_torch():
    """An ignore_index other than the default -100 with class probabilities raises, as torch."""
    x, y = _logits((3, 5)), _labels((3, 5)).softmax(1)
    with pytest.raises(RuntimeError):
        F.cross_entropy(x, y, ignore_index=2)
    with pytest.raises(ValueError, match="ignore_index"):
        ct.cross_entropy(x, y, ignore_index=2)
