"""cbce.torch: PyTorch's BCE losses on cbce's fused kernel (docs/guide/pytorch.md).

Values and gradients equal PyTorch's own modules; skipped where torch is not installed.
"""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import cbce

torch = pytest.importorskip("torch")
import cbce.torch as ct  # noqa: E402  (after the importorskip)

F = torch.nn.functional
DTYPES = [pytest.param(torch.float64, id="float64"), pytest.param(torch.float32, id="float32")]
REDUCTIONS = ["mean", "sum", "none"]
# Relative to the largest value compared: float64 as tests/test_parity_torch.py, float32 looser
# because PyTorch accumulates float32 means in float32.
TOL = {torch.float64: 1e-13, torch.float32: 1e-5}


def _close(got, want, dtype):
    got, want = got.detach().double(), want.detach().double()
    assert got.shape == want.shape
    scale = max(want.abs().max().item(), 1e-30)
    err = (got - want).abs().max().item()
    assert err <= TOL[dtype] * scale, f"max |error| {err:.3g} vs scale {scale:.3g}"


def _inputs(dtype, logits, shape=(64, 3), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    if not logits:
        x = torch.sigmoid(x)
        x.view(-1)[:2] = torch.tensor([0.0, 1.0], dtype=dtype)  # the -100 clamp, both ways
    y = (torch.rand(shape, generator=g) < 0.4).to(dtype)
    w = torch.rand(shape, generator=g, dtype=dtype) + 0.5
    return x, y, w


def _loss_and_grad(fn, x, *args, **kwargs):
    x = x.detach().clone().requires_grad_(True)
    loss = fn(x, *args, **kwargs)
    loss.sum().backward()
    return loss, x.grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_logits_module_matches_torch(dtype, reduction):
    """BCEWithLogitsLoss(weight, pos_weight per class): torch's loss and input gradient."""
    x, y, w = _inputs(dtype, True)
    pw = torch.tensor([1.0, 3.0, 0.5], dtype=dtype)
    ours = ct.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    theirs = torch.nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    loss, grad = _loss_and_grad(ours, x, y)
    t_loss, t_grad = _loss_and_grad(theirs, x, y)
    assert loss.dtype == t_loss.dtype and grad.dtype == t_grad.dtype
    _close(loss, t_loss, dtype)
    _close(grad, t_grad, dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_probabilities_module_matches_torch(dtype, reduction):
    """BCELoss(weight) with saturated probabilities: torch's loss (-100 clamp) and gradient."""
    x, y, w = _inputs(dtype, False)
    loss, grad = _loss_and_grad(ct.BCELoss(weight=w, reduction=reduction), x, y)
    t_loss, t_grad = _loss_and_grad(torch.nn.BCELoss(weight=w, reduction=reduction), x, y)
    _close(loss, t_loss, dtype)
    _close(grad, t_grad, dtype)


@pytest.mark.parametrize("logits", [True, False], ids=["logits", "probabilities"])
def test_functional_forms_match_torch(logits):
    """The functional forms take torch's positional arguments and give torch's results."""
    x, y, w = _inputs(torch.float64, logits)
    ours = ct.binary_cross_entropy_with_logits if logits else ct.binary_cross_entropy
    theirs = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
    loss, grad = _loss_and_grad(ours, x, y, w, None, None, "sum")
    t_loss, t_grad = _loss_and_grad(theirs, x, y, w, None, None, "sum")
    _close(loss, t_loss, torch.float64)
    _close(grad, t_grad, torch.float64)


def test_non_contiguous_input_matches_torch():
    """A transposed (strided) input gives torch's gradient, of the input's shape."""
    x, y, _ = _inputs(torch.float32, True, shape=(5, 40))
    loss, grad = _loss_and_grad(ct.binary_cross_entropy_with_logits, x.t(), y.t())
    t_loss, t_grad = _loss_and_grad(F.binary_cross_entropy_with_logits, x.t(), y.t())
    _close(loss, t_loss, torch.float32)
    _close(grad, t_grad, torch.float32)


def test_grad_output_scales_the_gradient():
    """backward of 3·loss gives 3x the gradient (grad_output is not assumed to be 1)."""
    x, y, _ = _inputs(torch.float64, True)
    xa = x.clone().requires_grad_(True)
    (3.0 * ct.binary_cross_entropy_with_logits(xa, y)).backward()
    xb = x.clone().requires_grad_(True)
    (3.0 * F.binary_cross_entropy_with_logits(xb, y)).backward()
    _close(xa.grad, xb.grad, torch.float64)


def test_reduction_none_backpropagates_elementwise_grad_output():
    """reduction="none" followed by a weighted sum: the gradient is scaled element by element."""
    x, y, w = _inputs(torch.float64, True)
    xa = x.clone().requires_grad_(True)
    (ct.binary_cross_entropy_with_logits(xa, y, reduction="none") * w).sum().backward()
    xb = x.clone().requires_grad_(True)
    (F.binary_cross_entropy_with_logits(xb, y, reduction="none") * w).sum().backward()
    _close(xa.grad, xb.grad, torch.float64)


def test_retain_graph_backward_twice_accumulates(in_place_always):
    """Two backward passes through one graph (retain_graph) accumulate twice the gradient."""
    x, y, _ = _inputs(torch.float64, True)
    xa = x.clone().requires_grad_(True)
    loss = ct.binary_cross_entropy_with_logits(xa, y)
    loss.backward(retain_graph=True)
    first = xa.grad.clone()
    loss.backward()
    _close(xa.grad, 2 * first, torch.float64)


# backward scales the gradient it saved in place on its first use (cbce/torch.py,
# _scaled_in_place); these check every way a graph can be used again, with the size floor of
# that path lowered to 0 so that small inputs take it.
@pytest.fixture
def in_place_always(monkeypatch):
    monkeypatch.setattr(ct, "_IN_PLACE_MIN_BYTES", 0)


LOSSES_ONCE = {
    "bce_logits_none": (lambda x, y: ct.binary_cross_entropy_with_logits(x, y, reduction="none"),
                        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none")),
    "bce_probs": (lambda x, y: ct.binary_cross_entropy(torch.sigmoid(x), y),
                  lambda x, y: F.binary_cross_entropy(torch.sigmoid(x), y)),
    "ce": (lambda x, y: ct.cross_entropy(x, (y[:, 0] > 0.5).long()),
           lambda x, y: F.cross_entropy(x, (y[:, 0] > 0.5).long())),
}


@pytest.mark.parametrize("case", list(LOSSES_ONCE))
def test_retain_graph_with_grad_outputs_matches_torch(case, in_place_always):
    """Three backward passes through one graph with grad_outputs 2, 3 and 1, and the gradient
    changed in place between them: the accumulated gradient is torch's."""
    ours, theirs = LOSSES_ONCE[case]
    x, y, _ = _inputs(torch.float64, True)
    grads = []
    for fn in (ours, theirs):
        xa = x.clone().requires_grad_(True)
        loss = fn(xa, y)
        for scale in (2.0, 3.0, 1.0):
            loss.backward(torch.full_like(loss, scale), retain_graph=True)
            xa.grad.mul_(0.5)  # an in-place gradient clip between passes
        grads.append(xa.grad)
    _close(grads[0], grads[1], torch.float64)


def test_backward_then_create_graph_gives_the_second_derivative(in_place_always):
    """A first backward (retain_graph) does not spoil a later create_graph=True backward: the
    hessian-vector product through the same graph is torch's."""
    x, y, _ = _inputs(torch.float64, True)
    hv = []
    for fn in (ct.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits):
        xa = x.clone().requires_grad_(True)
        loss = fn(xa, y)
        loss.backward(retain_graph=True)
        (g,) = torch.autograd.grad(loss, xa, create_graph=True)
        hv.append(torch.autograd.grad((g * y).sum(), xa)[0])
    _close(hv[0], hv[1], torch.float64)


def test_operator_gradient_output_is_not_scaled_by_backward(in_place_always):
    """A caller of the operator itself holds its gradient output: backward leaves it as it was."""
    x, y, _ = _inputs(torch.float64, True)
    xa = x.clone().requires_grad_(True)
    loss, grad = torch.ops.cbce.bce_loss_and_grad(xa, y, None, None, True, 1, 0.0, -1.0)
    before = grad.detach().clone()
    loss.backward(torch.tensor(5.0, dtype=torch.float64))
    assert torch.equal(grad.detach(), before)
    _close(xa.grad, 5 * before, torch.float64)


def test_training_steps_match_torch():
    """Ten SGD steps of a 2-layer MLP end at torch's parameters, for both losses."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(256, 6, generator=g, dtype=torch.float64)
    y = (X[:, :1] + 0.3 * torch.randn(256, 1, generator=g, dtype=torch.float64) > 0).double()
    for ours, theirs, head in [(ct.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), []),
                               (ct.BCELoss(), torch.nn.BCELoss(), [torch.nn.Sigmoid()])]:
        params = []
        for loss_fn in (ours, theirs):
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(),
                                        torch.nn.Linear(8, 1), *head).double()
            opt = torch.optim.SGD(model.parameters(), lr=0.5)
            for _ in range(10):
                opt.zero_grad()
                loss_fn(model(X), y).backward()
                opt.step()
            params.append(torch.cat([p.detach().ravel() for p in model.parameters()]))
        _close(params[0], params[1], torch.float64)


def test_no_grad_gives_the_loss_without_a_graph():
    """Under torch.no_grad() the loss is computed (same value) and has no grad_fn."""
    x, y, _ = _inputs(torch.float32, True)
    x.requires_grad_(True)
    with torch.no_grad():
        loss = ct.binary_cross_entropy_with_logits(x, y)
    assert loss.grad_fn is None and not loss.requires_grad
    _close(loss, F.binary_cross_entropy_with_logits(x, y), torch.float32)


def test_input_without_grad_gives_a_plain_tensor():
    """An input that does not require grad: a loss that does not either."""
    x, y, _ = _inputs(torch.float64, False)
    loss = ct.BCELoss()(x, y)
    assert not loss.requires_grad and loss.shape == ()


@pytest.mark.parametrize("name", ["target", "weight", "pos_weight"])
def test_grad_on_other_arguments_is_refused(name):
    """target, weight or pos_weight requiring grad raise (gradients flow to input only)."""
    x, y, w = _inputs(torch.float64, True)
    args = {"target": y, "weight": w, "pos_weight": torch.ones(3, dtype=torch.float64)}
    args[name] = args[name].clone().requires_grad_(True)
    with pytest.raises(ValueError, match=f"{name} requires grad"):
        ct.binary_cross_entropy_with_logits(x.requires_grad_(True), **args)
    with torch.no_grad():  # no graph: nothing to refuse
        ct.binary_cross_entropy_with_logits(x, **args)


def test_third_derivative_is_refused():
    """A derivative of the hessian (third order) raises instead of treating it as constant."""
    x, y, _ = _inputs(torch.float64, True)
    x.requires_grad_(True)
    (g,) = torch.autograd.grad(ct.binary_cross_entropy_with_logits(x, y), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="third derivative"):
        torch.autograd.grad(h.sum(), x)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64], ids=str)
def test_unsupported_input_dtype_raises_type_error(dtype):
    """Input dtypes other than float16/bfloat16/float32/float64: a TypeError naming the dtype."""
    x = torch.zeros(4, dtype=dtype)
    with pytest.raises(TypeError, match=str(dtype)):
        ct.binary_cross_entropy_with_logits(x, torch.zeros(4))


def test_non_cpu_input_raises():
    """A tensor on another device (meta here; CUDA alike) raises, naming the device."""
    x = torch.zeros(4, device="meta")
    with pytest.raises(ValueError, match="CPU.*meta"):
        ct.binary_cross_entropy_with_logits(x, torch.zeros(4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_input_raises():
    """A CUDA tensor raises with a pointer to torch.nn's losses."""
    x = torch.zeros(4, device="cuda")
    with pytest.raises(ValueError, match="cuda"):
        ct.BCEWithLogitsLoss()(x, torch.zeros(4, device="cuda"))


@pytest.mark.parametrize("call, error, match", [
    pytest.param(lambda: ct.binary_cross_entropy_with_logits(np.zeros(3), torch.zeros(3)),
                 TypeError, "torch.Tensor", id="numpy-input"),
    pytest.param(lambda: ct.binary_cross_entropy_with_logits(torch.zeros(3), torch.zeros(4)),
                 ValueError, "Target size", id="shape-mismatch"),
    pytest.param(lambda: ct.binary_cross_entropy(torch.zeros(3), torch.zeros(3),
                                                 reduction="avg"),
                 ValueError, "avg is not a valid value for reduction", id="bad-reduction"),
    pytest.param(lambda: ct.binary_cross_entropy(torch.tensor([0.5, 1.5]), torch.zeros(2)),
                 ValueError, r"input must be probabilities in \[0, 1\]; found 1.5 at index 1",
                 id="probability-above-1"),
    pytest.param(lambda: ct.binary_cross_entropy_with_logits(torch.zeros(2),
                                                             torch.tensor([0.0, 2.0])),
                 ValueError, r"target must be in \[0, 1\]; found 2.0", id="target-above-1"),
    pytest.param(lambda: ct.binary_cross_entropy_with_logits(torch.zeros(2, 3),
                                                             torch.zeros(2, 3),
                                                             weight=torch.ones(4)),
                 ValueError, "weight of shape", id="weight-shape"),
])
def test_bad_input_messages_use_torch_names(call, error, match):
    """Errors name torch's arguments (input, target, weight), not cbce's."""
    with pytest.raises(error, match=match):
        call()


def test_legacy_size_average_flag():
    """size_average=False (deprecated in torch) means reduction="sum", as in torch."""
    x, y, _ = _inputs(torch.float64, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = ct.binary_cross_entropy_with_logits(x, y, size_average=False)
        theirs = F.binary_cross_entropy_with_logits(x, y, size_average=False)
    _close(ours, theirs, torch.float64)


def test_modules_are_drop_in_subclasses():
    """The modules subclass torch's: same buffers, state_dict and repr; loadable both ways."""
    pw = torch.tensor([2.0])
    ours, theirs = ct.BCEWithLogitsLoss(pos_weight=pw), torch.nn.BCEWithLogitsLoss(pos_weight=pw)
    assert isinstance(ours, torch.nn.BCEWithLogitsLoss)
    assert isinstance(ct.BCELoss(), torch.nn.BCELoss)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_forward_reads_tensors_without_copies(monkeypatch):
    """The kernel receives NumPy views sharing memory with input, target and weight."""
    seen = {}
    real = cbce.bce_loss_and_grad

    def spy(y_true, y_pred, **kwargs):
        seen.update(y_true=y_true, y_pred=y_pred, w=kwargs["sample_weight"])
        return real(y_true, y_pred, **kwargs)

    monkeypatch.setattr(cbce, "bce_loss_and_grad", spy)
    x, y, w = _inputs(torch.float32, True, shape=(30, 20))
    x = x.t().requires_grad_(True)  # strided: still no copy
    ct.binary_cross_entropy_with_logits(x, y.t(), w.t()).backward()
    assert np.shares_memory(seen["y_pred"], x.detach().numpy())
    assert np.shares_memory(seen["y_true"], y.numpy())
    assert np.shares_memory(seen["w"], w.numpy())
    assert x.grad.shape == x.shape


def test_import_cbce_does_not_import_torch():
    """`import cbce` (and cbce.metrics) leaves torch unimported: it stays optional."""
    code = "import sys, cbce, cbce.metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd="/", check=True)
    assert out.stdout.strip() == "False"
