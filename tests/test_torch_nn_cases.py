"""PyTorch's own loss test cases, restated for cbce.torch: the facts they check, written for
cbce (docs/guide/pytorch.md). Skipped where torch is not installed.

Naming: a test named ``test_bce_*`` or ``test_cross_entropy_*`` carries the name of the upstream
test it mirrors (``test_cross_entropy_<name>`` where the upstream test is ``test_<name>`` of
another loss run through cross_entropy); ``test_common_nn_*`` mirrors
torch/testing/_internal/common_nn.py (installed with torch 2.13.0): the ``BCELoss_*`` /
``BCEWithLogitsLoss_*`` criterion entries, ``classification_criterion_no_batch``, and the
reference functions ``cross_entropy_loss_reference``, ``nllloss_reference`` and
``nlllossNd_reference``, which are imported and called.

Sources checked against:
* BCE tests: line by line against test/test_mps.py, which keeps the same tests under the same
  names, device aside.
* Cross-entropy tests: against upstream test/test_nn.py at pytorch/pytorch commit
  74f2fa66feec00335f72813782f4802e80bff4cb, classes TestNN and TestNNDeviceType: same inputs,
  shapes and options (float32 where upstream uses the default dtype, float64 too), and every
  value, first derivative (a random grad_output, so "none" is covered) and, in float64, second
  derivative (a hessian-vector product) compared with torch's own F.cross_entropy.

Upstream cross-entropy tests ported (TestNN): test_cross_entropy_loss (bfloat16 against float32),
test_cross_entropy_loss_precision, test_cross_entropy_loss_zero_div. (TestNNDeviceType):
test_cross_entropy_loss_2d_out_of_bounds_class_index, _loss_prob_target_all_reductions,
_loss_prob_target_unit_weights, _loss_prob_target_no_batch_dim, _loss_index_target_unit_weights,
_loss_one_hot_target, _label_smoothing_errors, _label_smoothing_consistent_index_target_and_probs,
_label_smoothing_with_probs, _label_smoothing_weight_ignore_indices; and, for cross_entropy,
the cross_entropy line of test_invalid_reduction_strings and the facts of test_nll_loss_all_ignored,
test_nll_loss_total_weight_is_zero and test_nll_loss_empty_tensor_reduction_{none,mean,sum}.

Upstream cross-entropy tests skipped:
* test_cross_entropy_64bit: CUDA only (CPU-vs-CUDA agreement on a 20 GB problem).
* test_cross_entropy_large_tensor: CUDA only (CPU-vs-CUDA agreement, 2^16 x (2^16 + 1) logits).
* test_softmax_forward_64bit_indexing (calls CrossEntropyLoss): CUDA only, float16, 42 GB.

Deliberate differences, each asserted where it arises: errors are ValueError naming the
argument where torch raises RuntimeError; targets outside [0, 1] raise for the logits loss too
(common_nn's unbatched BCEWithLogitsLoss entry feeds normal targets) and for cross-entropy class
probabilities (several upstream tests feed normal or log-softmax "probabilities": the refusal is
asserted and the fact checked with probabilities in [0, 1]); a target that requires grad raises
(upstream's probability targets do); a class index >= C raises ValueError with its position
(upstream: a CUDA device-side assert); an input with no classes (C = 0) raises ValueError where
torch returns NaN; label_smoothing below 0 raises.
"""
import os

import pytest

torch = pytest.importorskip("torch")
import cbce.torch as ct  # noqa: E402

F = torch.nn.functional
F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-12)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_bce_loss_always_nonnegative():
    """BCELoss of equal input and target is >= 0 (0 and 1 both)."""
    for v in (0.0, 1.0):
        x = torch.full((7, 3), v)
        assert (ct.BCELoss()(x, x) >= 0).item()
        assert (ct.BCEWithLogitsLoss()(torch.full((7, 3), 40.0 if v else -40.0), x) >= 0).item()


def test_bce_with_logits_raises_if_target_and_input_are_different_size():
    """Mismatched sizes raise, naming both sizes."""
    with pytest.raises(ValueError, match="Target size"):
        ct.BCEWithLogitsLoss()(torch.rand(5), torch.rand(5, 1))
    with pytest.raises(ValueError, match="Target size"):
        ct.BCEWithLogitsLoss()(torch.rand(5, 1), torch.rand(5))


@pytest.mark.parametrize("options", [{}, {"weight": True}, {"pos_weight": True}], ids=str)
def test_bce_with_logits_gives_same_result_as_sigmoid_and_bce_loss(options):
    """BCEWithLogitsLoss(x) equals BCELoss(sigmoid(x)), with weights; pos_weight by its
    definition, pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))."""
    x = torch.randn(64, 4, generator=_gen(0), dtype=F64)
    y = torch.rand(64, 4, generator=_gen(1), dtype=F64)
    w = torch.rand(4, generator=_gen(2), dtype=F64) if options.get("weight") else None
    if options.get("pos_weight"):
        pw = torch.rand(64, 4, generator=_gen(3), dtype=F64)
        got = ct.BCEWithLogitsLoss(pos_weight=pw)(x, y)
        s = torch.sigmoid(x)
        want = -(pw * y * s.log() + (1 - y) * (1 - s).log()).mean()
    else:
        got = ct.BCEWithLogitsLoss(weight=w)(x, y)
        want = ct.BCELoss(weight=w)(torch.sigmoid(x), y)
    torch.testing.assert_close(got, want, **TOL)


@pytest.mark.parametrize("pos_weight", [None, torch.ones(3, 1)],
                         ids=["no_pos_weight", "pos_weight"])
def test_bce_with_logits_has_correct_grad_at_zero(pos_weight):
    """At logit 0 and target 0 the gradient of the summed loss is 0.5 (upstream:
    test_bce_with_logits_has_correct_grad_at_zero and
    test_bce_with_logits_with_pos_weight_has_correct_grad_at_zero)."""
    x = torch.zeros(3, 1, requires_grad=True)
    ct.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="sum")(x, torch.zeros(3, 1)).backward()
    torch.testing.assert_close(x.grad, torch.full((3, 1), 0.5))


def test_bce_with_logits_broadcasts_weights():
    """A weight of shape (4,) or (16, 1) equals the same weight expanded to (16, 4), for both
    losses (upstream: test_bce_with_logits_broadcasts_weights, test_bce_loss_broadcasts_weights)."""
    x, y = torch.randn(16, 4, dtype=F64), torch.rand(16, 4, dtype=F64)
    for w in (torch.rand(4, dtype=F64), torch.rand(16, 1, dtype=F64)):
        torch.testing.assert_close(ct.BCEWithLogitsLoss(weight=w)(x, y),
                                   ct.BCEWithLogitsLoss(weight=w.expand(16, 4))(x, y), **TOL)
        torch.testing.assert_close(ct.BCELoss(weight=w)(torch.sigmoid(x), y),
                                   ct.BCELoss(weight=w.expand(16, 4))(torch.sigmoid(x), y), **TOL)


@pytest.mark.parametrize("shape", [(64, 4), (4,)], ids=["full", "per_class"])
def test_bce_with_logits_ones_in_pos_weights_are_the_same_as_none(shape):
    """pos_weight of ones, full (upstream's case) or one per class, is no pos_weight."""
    x, y = torch.randn(64, 4, dtype=F64), torch.rand(64, 4, dtype=F64)
    torch.testing.assert_close(ct.BCEWithLogitsLoss(pos_weight=torch.ones(shape, dtype=F64))(x, y),
                               ct.BCEWithLogitsLoss()(x, y), **TOL)


def test_bce_with_logits_broadcasts_pos_weights():
    """A pos_weight of shape (4,), (1, 4) and (64, 4) with the same values agree."""
    x, y = torch.randn(64, 4, dtype=F64), torch.rand(64, 4, dtype=F64)
    pw = torch.rand(4, dtype=F64)
    base = ct.BCEWithLogitsLoss(pos_weight=pw)(x, y)
    for shaped in (pw.view(1, 4), pw.expand(64, 4)):
        torch.testing.assert_close(ct.BCEWithLogitsLoss(pos_weight=shaped)(x, y), base, **TOL)


def test_bce_with_logits_stability():
    """Logits 0 and -120 against targets 0 and 1: a finite loss, with pos_weight too."""
    x, y = torch.tensor([0.0, -120.0]), torch.tensor([0.0, 1.0])
    assert torch.isfinite(ct.BCEWithLogitsLoss()(x, y)).item()
    assert torch.isfinite(ct.BCEWithLogitsLoss(pos_weight=torch.ones(2))(x, y)).item()


def test_bce_with_logits_has_correct_forward_grad():
    """gradcheck with forward AD, as torch checks its own (float64, pos_weight, every reduction)."""
    x = torch.randn(3, 5, dtype=F64, requires_grad=True)
    y = torch.rand(3, 5, dtype=F64)
    pw = torch.rand(5, dtype=F64) + 0.5
    for reduction in ("sum", "mean", "none"):
        assert torch.autograd.gradcheck(
            lambda z: ct.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction=reduction),
            (x,), check_forward_ad=True)


def test_bce_loss_input_range():
    """Probabilities outside [0, 1] raise (torch: RuntimeError; cbce: ValueError naming input)."""
    y = torch.rand(4)
    for bad in (torch.tensor([0.5, 1.5, 0.2, 0.1]), torch.tensor([0.5, -0.5, 0.2, 0.1])):
        with pytest.raises(RuntimeError):
            F.binary_cross_entropy(bad, y)
        with pytest.raises(ValueError, match="input"):
            ct.binary_cross_entropy(bad, y)


def test_bce_loss_size_mismatch():
    """BCELoss with mismatched sizes raises ValueError with torch's own message."""
    with pytest.raises(ValueError, match=r"Using a target size \("):
        torch.nn.BCELoss()(torch.rand(25), torch.rand(25, 1))
    with pytest.raises(ValueError, match=r"Using a target size \("):
        ct.BCELoss()(torch.rand(25), torch.rand(25, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_gives_same_result_as_sigmoid_and_bce_loss_large_tensors_with_grad(
        reduction):
    """A (1024, 256) problem with a per-column weight: BCEWithLogitsLoss's loss and gradient
    equal sigmoid + BCELoss's; "none" backpropagates a random grad_output."""
    x = torch.rand(1024, 256, generator=_gen(0), dtype=F64) - 0.5
    y = torch.rand(1024, 256, generator=_gen(1), dtype=F64)
    w = torch.rand(256, generator=_gen(2), dtype=F64)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    la = ct.BCEWithLogitsLoss(w, reduction=reduction)(xa, y)
    lb = ct.BCELoss(w, reduction=reduction)(torch.sigmoid(xb), y)
    torch.testing.assert_close(la, lb, **TOL)
    g = torch.rand(1024, 256, generator=_gen(3), dtype=F64) if reduction == "none" else None
    la.backward(g)
    lb.backward(g)
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)


# ---------------------------------------------------------------------------------------------
# Cross-entropy: upstream test/test_nn.py (commit in the module docstring).

DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.float64],
                                 ids=["float32", "float64"])
KS = pytest.mark.parametrize("k", range(5), ids=lambda k: f"k{k}")
REDUCTIONS = ["none", "mean", "sum"]
SLOW = pytest.mark.skipif(not os.environ.get("CBCE_SLOW_TESTS"),
                          reason="upstream's 151M-element problem, ~3 GB and ~10 s: "
                                 "set CBCE_SLOW_TESTS=1")


def _other_dims(k):
    """Upstream's k extra dimensions, each of size 2 to 4 (drawn with a fixed seed here)."""
    return torch.randint(2, 5, (k,), generator=_gen(100 + k)).tolist()


def _loss_and_derivatives(fn, x, target, second, **kw):
    """The loss, its gradient for a random grad_output and, with ``second``, the product of the
    hessian with a random vector."""
    x = x.detach().clone().requires_grad_(True)
    out = fn(x, target, **kw)
    g_out = torch.rand(out.shape, generator=_gen(7), dtype=out.dtype)
    (gx,) = torch.autograd.grad(out, x, g_out, create_graph=second)
    result = [out.detach(), gx.detach()]
    if second:
        u = torch.rand(x.shape, generator=_gen(8), dtype=x.dtype)
        (hu,) = torch.autograd.grad(gx, x, u)
        result.append(hu)
    return result


def _assert_matches_torch(x, target, **kw):
    """cbce's loss and first derivatives equal torch's F.cross_entropy's at torch.testing's
    default tolerance for the dtype; second derivatives too in float64."""
    second = x.dtype == torch.float64
    got = _loss_and_derivatives(ct.cross_entropy, x, target, second, **kw)
    want = _loss_and_derivatives(F.cross_entropy, x, target, second, **kw)
    for name, g, w in zip(("loss", "gradient", "hessian-vector product"), got, want):
        torch.testing.assert_close(g, w, msg=lambda m, name=name: f"{name}: {m}")


def _one_hot_channels(target, c, dtype):
    """Class indices (N, d1, ...) as one-hot probabilities (N, C, d1, ...)."""
    return F.one_hot(target, num_classes=c).movedim(-1, 1).to(dtype)


# TestNN --------------------------------------------------------------------------------------

def test_cross_entropy_loss():
    """bfloat16 logits give the float32 loss and gradient to within 0.1, in bfloat16 (cbce
    computes them in float32), and agree with torch's bfloat16 loss to the same tolerance."""
    inputf = torch.randn(15, 10, generator=_gen(0), requires_grad=True)
    inp = inputf.to(torch.bfloat16).detach().requires_grad_(True)
    target = torch.randint(0, 10, (15,), generator=_gen(1))
    outf = ct.CrossEntropyLoss()(inputf, target)
    out = ct.CrossEntropyLoss()(inp, target)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, outf.to(torch.bfloat16), atol=1e-1, rtol=0)
    outf.backward()
    out.backward()
    assert inp.grad.dtype == torch.bfloat16
    torch.testing.assert_close(inp.grad, inputf.grad.to(torch.bfloat16), atol=1e-1, rtol=0)
    torch.testing.assert_close(out, torch.nn.CrossEntropyLoss()(inp.detach(), target),
                               atol=1e-1, rtol=0)
    _assert_matches_torch(inputf, target)


@pytest.mark.parametrize("shape", [pytest.param((128, 2, 768, 768), marks=SLOW), (8, 2, 768, 768)],
                         ids=["upstream_shape", "16x_smaller_batch"])
def test_cross_entropy_loss_precision(shape):
    """float32 logits give the float64 loss to float32's tolerance over 2-class 768 x 768 maps
    (the sum runs over 75M terms at upstream's shape), and each equals torch's."""
    inputf = torch.randn(shape, generator=_gen(0))
    inputd = inputf.double()
    target = torch.randint(2, (shape[0],) + shape[2:], generator=_gen(1))
    outf = ct.CrossEntropyLoss()(inputf, target)
    outd = ct.CrossEntropyLoss()(inputd, target)
    torch.testing.assert_close(outf.double(), outd, rtol=1.3e-6, atol=1e-5)
    torch.testing.assert_close(outf, F.cross_entropy(inputf, target))
    torch.testing.assert_close(outd, F.cross_entropy(inputd, target))


def test_cross_entropy_loss_zero_div():
    """Upstream only checks that (5, 0) logits with (5, 0) probabilities do not crash (torch
    returns NaN). Deliberate difference: cbce refuses an input with no classes, a ValueError
    naming input."""
    input_1 = torch.rand([5, 0], dtype=torch.float32)
    input_2 = torch.rand([5, 0], dtype=torch.float32)
    assert torch.isnan(torch.nn.CrossEntropyLoss()(input_1, input_2))
    for reduction in REDUCTIONS:
        with pytest.raises(ValueError, match="input must have at least one class"):
            ct.CrossEntropyLoss(reduction=reduction)(input_1, input_2)


# TestNNDeviceType ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.float32], ids=["float16", "float32"])
def test_cross_entropy_loss_2d_out_of_bounds_class_index(dtype):
    """Class 254 of 3 among (10, 768, 1024) targets, ignore_index 255, reduction "none":
    upstream checks that CUDA's device-side assert fires. cbce (CPU) raises ValueError with the
    value and its position; torch's CPU kernel raises too."""
    pred = torch.randn(10, 3, 768, 1024, generator=_gen(0)).to(dtype)
    labels = torch.zeros(10, 768, 1024, dtype=torch.int64)
    labels[5, 200, 200] = 254
    with pytest.raises((RuntimeError, IndexError)):
        F.cross_entropy(pred, labels, reduction="none", ignore_index=255)
    with pytest.raises(ValueError, match=r"found 254 at index \(5, 200, 200\)"):
        ct.cross_entropy(pred, labels, reduction="none", ignore_index=255)


def _assert_refuses_upstream_probabilities(x, upstream_target):
    """Deliberate differences: class probabilities outside [0, 1] (upstream's normal or
    log-softmax targets) and a target that requires grad (upstream's) raise ValueError."""
    assert torch.isfinite(F.cross_entropy(x, upstream_target.detach()))
    with pytest.raises(ValueError, match=r"target must be class probabilities in \[0, 1\]"):
        ct.cross_entropy(x, upstream_target.detach())
    with pytest.raises(ValueError, match="target"):
        ct.cross_entropy(x, upstream_target.detach().clamp(0, 1).requires_grad_(True))


@DTYPES
@KS
def test_cross_entropy_loss_prob_target_all_reductions(k, dtype):
    """(5, 4, d1..dk) logits, k = 0..4, probability targets, weight |normal| or none, every
    reduction: cbce equals common_nn's cross_entropy_loss_reference and torch (values and
    derivatives). Upstream's targets are normal draws that require grad; cbce refuses those
    (asserted), so the targets are uniform in [0, 1] (unnormalized, as upstream's)."""
    common_nn = pytest.importorskip("torch.testing._internal.common_nn")
    n, c, dims = 5, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    _assert_refuses_upstream_probabilities(
        x, torch.randn(n, c, *dims, generator=_gen(1), dtype=dtype, requires_grad=True))
    target = torch.rand(n, c, *dims, generator=_gen(1), dtype=dtype)
    weight = torch.randn(c, generator=_gen(2), dtype=dtype).abs()
    for reduction in REDUCTIONS:
        for w in (None, weight):
            m = ct.CrossEntropyLoss(weight=w, reduction=reduction)
            torch.testing.assert_close(
                m(x, target), common_nn.loss_reference_fns["CrossEntropyLoss"](
                    x, target, reduction=reduction, weight=w))
            _assert_matches_torch(x, target, weight=w, reduction=reduction)


def _assert_unit_weight_is_no_weight(x, target, c, dtype):
    """A class weight of ones gives the unweighted loss, and torch's, for every reduction."""
    unit_weight = torch.ones(c, dtype=dtype)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            ct.CrossEntropyLoss(weight=unit_weight, reduction=reduction)(x, target),
            ct.CrossEntropyLoss(reduction=reduction)(x, target))
        _assert_matches_torch(x, target, weight=unit_weight, reduction=reduction)


@DTYPES
@KS
def test_cross_entropy_loss_prob_target_unit_weights(k, dtype):
    """A weight of ones is no weight, for probability targets of (5, 4, d1..dk) logits, every
    reduction (targets in [0, 1]: upstream's normal ones are refused, asserted above)."""
    n, c, dims = 5, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    _assert_refuses_upstream_probabilities(
        x, torch.randn(n, c, *dims, generator=_gen(1), dtype=dtype, requires_grad=True))
    target = torch.rand(n, c, *dims, generator=_gen(1), dtype=dtype)
    _assert_unit_weight_is_no_weight(x, target, c, dtype)


@DTYPES
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_loss_prob_target_no_batch_dim(reduction, weighted, dtype):
    """Unbatched (5,) log-softmax logits with softmax probabilities (weight: normal draws, some
    negative) give the loss of the same input as a batch of one."""
    c = 5
    x = torch.randn(c, generator=_gen(0), dtype=dtype).log_softmax(dim=-1)
    target = torch.randn(c, generator=_gen(1), dtype=dtype).softmax(dim=-1)
    weight = torch.randn(c, generator=_gen(2), dtype=dtype) if weighted else None
    m = ct.CrossEntropyLoss(reduction=reduction, weight=weight)
    loss_no_batch = m(x, target)
    loss_batch = m(x.unsqueeze(0), target.unsqueeze(0))
    if reduction == "none":
        loss_batch = loss_batch.squeeze(0)
    torch.testing.assert_close(loss_no_batch, loss_batch)
    _assert_matches_torch(x, target, weight=weight, reduction=reduction)


@DTYPES
@KS
def test_cross_entropy_loss_index_target_unit_weights(k, dtype):
    """A weight of ones is no weight, for class-index targets of (5, 4, d1..dk) logits, every
    reduction."""
    n, c, dims = 5, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    target = torch.randint(0, c, (n, *dims), generator=_gen(1))
    _assert_unit_weight_is_no_weight(x, target, c, dtype)


@DTYPES
@KS
def test_cross_entropy_loss_one_hot_target(k, dtype):
    """Class indices and their one-hot probabilities give the same loss for (5, 4, d1..dk)
    logits, weight |normal| or none, every reduction. Upstream skips "mean" with a weight,
    where torch itself differs (indices divide by the kept targets' total weight, probabilities
    by the number of targets): here that relation is asserted, as is agreement with torch."""
    n, c, dims = 5, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    target = torch.randint(0, c, (n, *dims), generator=_gen(1))
    weight = torch.randn(c, generator=_gen(2), dtype=dtype).abs()
    one_hot = _one_hot_channels(target, c, dtype)
    for reduction in REDUCTIONS:
        for w in (None, weight):
            m = ct.CrossEntropyLoss(weight=w, reduction=reduction)
            by_index, by_probs = m(x, target), m(x, one_hot)
            if reduction == "mean" and w is not None:
                by_probs = by_probs * target.numel() / w[target].sum()
            torch.testing.assert_close(by_index, by_probs)
            _assert_matches_torch(x, target, weight=w, reduction=reduction)
            _assert_matches_torch(x, one_hot, weight=w, reduction=reduction)


def test_cross_entropy_label_smoothing_errors():
    """label_smoothing 1.2 raises for class indices (upstream's (3, 4) logits with 4 targets:
    the argument is checked before the shapes) and for probabilities: torch RuntimeError,
    cbce ValueError naming it. Below 0 cbce raises too, a deliberate difference: torch 2.13
    computes a loss for -0.1."""
    n, c = 3, 4
    input_args = [
        (torch.randn((n, c), generator=_gen(0)), torch.arange(0, c)),
        (torch.randn((n, c), generator=_gen(1)), torch.randn(n, c, generator=_gen(2))),
    ]
    for input_arg in input_args:
        with pytest.raises(RuntimeError, match=r"label_smoothing must be between 0\.0"):
            torch.nn.CrossEntropyLoss(label_smoothing=1.2)(*input_arg)
        with pytest.raises(ValueError, match=r"label_smoothing must be between 0\.0"):
            ct.CrossEntropyLoss(label_smoothing=1.2)(*input_arg)
    x, target = torch.randn(n, c, generator=_gen(3)), torch.randint(0, c, (n,), generator=_gen(4))
    assert torch.isfinite(F.cross_entropy(x, target, label_smoothing=-0.1))
    with pytest.raises(ValueError, match="label_smoothing"):
        ct.cross_entropy(x, target, label_smoothing=-0.1)


@DTYPES
@KS
@pytest.mark.parametrize("label_smoothing", [0.05, 0.15])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing_consistent_index_target_and_probs(reduction,
                                                                         label_smoothing, k,
                                                                         dtype):
    """Class indices with label smoothing ls equal, without smoothing, the probabilities
    1 - ls + ls / C at the class and ls / C elsewhere, for (10, 4, d1..dk) logits (upstream:
    float64, rtol 1e-7, atol 1e-5)."""
    n, c, dims = 10, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    target = torch.randint(0, c, (n, *dims), generator=_gen(1))
    mask = _one_hot_channels(target, c, dtype) == 1
    target_proba = torch.full(mask.shape, label_smoothing / c, dtype=dtype)
    target_proba.masked_fill_(mask, 1 - label_smoothing + label_smoothing / c)
    output_with_prob = ct.CrossEntropyLoss(reduction=reduction)(x, target_proba)
    output_with_index = ct.CrossEntropyLoss(reduction=reduction,
                                            label_smoothing=label_smoothing)(x, target)
    torch.testing.assert_close(output_with_prob, output_with_index, rtol=1e-7, atol=1e-5)
    _assert_matches_torch(x, target, reduction=reduction, label_smoothing=label_smoothing)
    _assert_matches_torch(x, target_proba, reduction=reduction)


@DTYPES
@KS
@pytest.mark.parametrize("label_smoothing", [0.05, 0.15])
def test_cross_entropy_label_smoothing_with_probs(label_smoothing, k, dtype):
    """Label smoothing of probabilities p equals no smoothing of p (1 - ls) + ls / C, for
    (10, 4, d1..dk) logits, every reduction. Upstream's p are log-softmax values (not in
    [0, 1]); cbce refuses them (asserted), so p are softmax values here."""
    n, c, dims = 10, 4, _other_dims(k)
    x = torch.randn(n, c, *dims, generator=_gen(0), dtype=dtype)
    logits = torch.randn(n, c, *dims, generator=_gen(1), dtype=dtype)
    _assert_refuses_upstream_probabilities(x, F.log_softmax(logits, dim=1))
    target = F.softmax(logits, dim=1)
    for reduction in REDUCTIONS:
        output_with_smoothing = ct.CrossEntropyLoss(reduction=reduction,
                                                    label_smoothing=label_smoothing)(x, target)
        target_with_smoothing = target * (1 - label_smoothing) + label_smoothing / c
        output_with_manual_smoothing = ct.CrossEntropyLoss(reduction=reduction)(
            x, target_with_smoothing)
        torch.testing.assert_close(output_with_smoothing, output_with_manual_smoothing)
        _assert_matches_torch(x, target, reduction=reduction, label_smoothing=label_smoothing)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.05, 0.15])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing_weight_ignore_indices(reduction, label_smoothing,
                                                             weighted):
    """An ignored target (ignore_index -100, -2, or 2 = C, out of the class range) leaves no
    trace with label smoothing and weights: two inputs differing only in the ignored row give
    the same loss, and for "mean"/"sum" so does the input without that row (the ignored row is
    not in the mean's denominator)."""
    wgt = torch.tensor([0.3, 0.6]) if weighted else None
    inp1 = torch.tensor([[0.3, 0.4], [1, 2]])
    inp2 = torch.tensor([[0.3, 0.6], [1, 2]])
    for ignore_index in (-100, -2, 2):
        targ = torch.tensor([ignore_index, 1])
        loss = ct.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing,
                                   ignore_index=ignore_index, weight=wgt)
        torch.testing.assert_close(loss(inp1, targ), loss(inp2, targ))
        if reduction != "none":
            torch.testing.assert_close(loss(inp1, targ), loss(inp2[1:], targ[1:]))
        for inp in (inp1, inp1.double()):
            _assert_matches_torch(inp, targ, reduction=reduction, label_smoothing=label_smoothing,
                                  ignore_index=ignore_index,
                                  weight=None if wgt is None else wgt.to(inp.dtype))


def test_cross_entropy_invalid_reduction_strings():
    """From test_invalid_reduction_strings: reduction "none" works, "invalid" raises
    ValueError, as in torch."""
    x = torch.randn(3, 5, generator=_gen(0), requires_grad=True)
    target = torch.tensor([1, 0, 4])
    ct.cross_entropy(x, target, reduction="none")
    with pytest.raises(ValueError):
        F.cross_entropy(x, target, reduction="invalid")
    with pytest.raises(ValueError, match="reduction"):
        ct.cross_entropy(x, target, reduction="invalid")


NLL_SIZES = pytest.mark.parametrize("input_size", [[2, 3], [2, 3, 5, 7], [2, 3, 5, 7, 9]],
                                    ids=lambda s: "x".join(map(str, s)))


@NLL_SIZES
def test_cross_entropy_nll_loss_all_ignored(input_size):
    """test_nll_loss_all_ignored's facts through cross_entropy: every target ignored gives sum 0,
    mean NaN (0 / 0, as torch) and "none" zeros, with a zero gradient."""
    x = torch.ones(input_size)
    target = torch.zeros((input_size[0],) + tuple(input_size[2:]), dtype=torch.long)
    assert ct.cross_entropy(x, target, ignore_index=0, reduction="sum").item() == 0
    assert torch.isnan(ct.cross_entropy(x, target, ignore_index=0, reduction="mean"))
    torch.testing.assert_close(ct.cross_entropy(x, target, ignore_index=0, reduction="none"),
                               torch.zeros(target.shape))
    for reduction in ("sum", "none"):
        _assert_matches_torch(x.double(), target, ignore_index=0, reduction=reduction)


@NLL_SIZES
def test_cross_entropy_nll_loss_total_weight_is_zero(input_size):
    """test_nll_loss_total_weight_is_zero's facts through cross_entropy: a zero weight for every
    class gives sum 0, mean NaN and "none" zeros."""
    x = torch.ones(input_size)
    target = torch.zeros((input_size[0],) + tuple(input_size[2:]), dtype=torch.long)
    weight = torch.zeros([input_size[1]])
    assert ct.cross_entropy(x, target, weight, reduction="sum").item() == 0
    assert torch.isnan(ct.cross_entropy(x, target, weight, reduction="mean"))
    torch.testing.assert_close(ct.cross_entropy(x, target, weight, reduction="none"),
                               torch.zeros(target.shape))
    for reduction in ("sum", "none"):
        _assert_matches_torch(x.double(), target, weight=weight.double(), reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("input_size", [[0, 3], [0, 3, 5, 7], [2, 3, 0, 7], [2, 3, 5, 0],
                                        [2, 3, 5, 7, 0]], ids=lambda s: "x".join(map(str, s)))
def test_cross_entropy_nll_loss_empty_tensor_reduction(input_size, reduction):
    """test_nll_loss_empty_tensor_reduction_{none,mean,sum}'s facts through cross_entropy: an
    empty batch or spatial extent gives an empty "none" loss, mean NaN, sum 0, and a gradient
    of the input's size."""
    x = torch.rand(input_size, generator=_gen(0), requires_grad=True)
    target = torch.randint(input_size[1], (input_size[0],) + tuple(input_size[2:]),
                           generator=_gen(1))
    out = ct.cross_entropy(x, target, reduction=reduction)
    expected = {"none": torch.empty([input_size[0]] + input_size[2:]),
                "mean": torch.tensor(float("nan")), "sum": torch.tensor(0.0)}[reduction]
    torch.testing.assert_close(out, expected, equal_nan=True)
    out.sum().backward()
    assert x.grad.size() == x.size()
    torch.testing.assert_close(out, F.cross_entropy(x, target, reduction=reduction),
                               equal_nan=True)


# ---------------------------------------------------------------------------------------------
# common_nn's criterion entries and reference functions.

def _bce_no_reduce_inputs(shape, seed):
    """common_nn's inputs: probabilities clamped to [2.8e-2, 1 - 2.8e-2], 0/1 targets."""
    i = torch.rand(shape, generator=_gen(seed), dtype=F64).clamp_(2.8e-2, 1 - 2.8e-2)
    t = torch.randn(shape, generator=_gen(seed + 1), dtype=F64).gt(0).to(F64)
    return i, t


@pytest.mark.parametrize("shape", [(15, 10), ()], ids=["15x10", "scalar"])
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weights"])
def test_common_nn_bceloss_no_reduce(shape, weighted):
    """BCELoss_no_reduce, BCELoss_weights_no_reduce and their _scalar forms: the per-element
    loss is -w (t log i + (1 - t) log(1 - i)); gradcheck and gradgradcheck pass."""
    i, t = _bce_no_reduce_inputs(shape, 0)
    w = torch.rand(shape[-1:], generator=_gen(5), dtype=F64) if weighted else None
    got = ct.binary_cross_entropy(i, t, weight=w, reduction="none")
    want = -(t * i.log() + (1 - t) * (1 - i).log()) * (1.0 if w is None else w)
    torch.testing.assert_close(got, want, **TOL)
    i.requires_grad_(True)
    fn = lambda z: ct.binary_cross_entropy(z, t, weight=w, reduction="none")  # noqa: E731
    assert torch.autograd.gradcheck(fn, (i,))
    assert torch.autograd.gradgradcheck(fn, (i,))


@pytest.mark.parametrize("shape", [(15, 10), ()], ids=["15x10", "scalar"])
@pytest.mark.parametrize("legacy", [False, True], ids=["reduction_none", "legacy_enum"])
def test_common_nn_bce_with_logits_no_reduce(shape, legacy):
    """BCEWithLogitsLoss_no_reduce, _no_reduce_scalar and _legacy_enum (reduce=False): the
    per-element loss is -(t log s(i) + (1 - t) log(1 - s(i))); gradcheck passes."""
    i, t = _bce_no_reduce_inputs(shape, 2)
    kw = {"reduce": False} if legacy else {"reduction": "none"}
    got = ct.binary_cross_entropy_with_logits(i, t, **kw)
    s = torch.sigmoid(i)
    torch.testing.assert_close(got, -(t * s.log() + (1 - t) * (1 - s).log()), **TOL)
    i.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: ct.binary_cross_entropy_with_logits(z, t, **kw),
                                    (i,))


def test_common_nn_classification_criterion_no_batch_bce():
    """classification_criterion_no_batch: an unbatched (9,) input gives the loss of the same
    input as a batch of one, for both losses. common_nn draws the logits loss's targets from a
    normal distribution; cbce refuses targets outside [0, 1] (ValueError), so they are drawn in
    [0, 1] here, and the refusal is asserted."""
    p = torch.sigmoid(torch.randn(9, generator=_gen(0), dtype=F64))
    x = torch.randn(9, generator=_gen(1), dtype=F64)
    t = torch.randn(9, generator=_gen(2), dtype=F64).gt(0).to(F64)
    for loss, inp in ((ct.BCELoss, p), (ct.BCEWithLogitsLoss, x)):
        for reduction in ("mean", "sum", "none"):
            m = loss(reduction=reduction)
            torch.testing.assert_close(m(inp, t), m(inp[None], t[None]).squeeze(0), **TOL)
    normal_targets = torch.randn(9, generator=_gen(3), dtype=F64)
    assert torch.isfinite(torch.nn.BCEWithLogitsLoss()(x, normal_targets))
    with pytest.raises(ValueError, match="target"):
        ct.BCEWithLogitsLoss()(x, normal_targets)


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3)], ids=["NC", "NCHW"])
@pytest.mark.parametrize("target_kind", ["indices", "probs"])
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_common_nn_cross_entropy_loss_reference(shape, target_kind, weighted, label_smoothing,
                                                reduction):
    """cross_entropy equals common_nn's cross_entropy_loss_reference (log_softmax, then nll or
    the weighted sum over classes, with its label-smoothing rule), for class indices (one
    ignored) and class probabilities, weights, every reduction."""
    common_nn = pytest.importorskip("torch.testing._internal.common_nn")
    x = torch.randn(shape, generator=_gen(0), dtype=F64)
    w = torch.rand(shape[1], generator=_gen(2), dtype=F64) + 0.5 if weighted else None
    if target_kind == "indices":
        target = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=_gen(1))
        target.view(-1)[1] = -100
    else:
        target = torch.rand(shape, generator=_gen(1), dtype=F64).softmax(1)
    got = ct.cross_entropy(x, target, weight=w, reduction=reduction,
                           label_smoothing=label_smoothing)
    want = common_nn.cross_entropy_loss_reference(x, target, weight=w, reduction=reduction,
                                                  label_smoothing=label_smoothing)
    torch.testing.assert_close(got, want, **TOL)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
def test_common_nn_nlllossNd_reference(weighted):
    """cross_entropy of (N, C, d1, d2) logits equals common_nn's nlllossNd_reference loop over
    log_softmax, with ignore_index a valid class (1), as common_nn's nlllossNd entries use it
    (the reference indexes the input by every target, so it cannot take -100)."""
    common_nn = pytest.importorskip("torch.testing._internal.common_nn")
    x = torch.randn(2, 3, 4, 2, generator=_gen(0), dtype=F64)
    target = torch.randint(0, 3, (2, 4, 2), generator=_gen(1))
    target[0, 1, 1] = 1
    w = torch.rand(3, generator=_gen(2), dtype=F64) + 0.5 if weighted else None
    for reduction in ("mean", "sum", "none"):
        want = common_nn.nlllossNd_reference(torch.log_softmax(x, 1), target, w,
                                             ignore_index=1, reduction=reduction)
        got = ct.cross_entropy(x, target, weight=w, ignore_index=1, reduction=reduction)
        torch.testing.assert_close(got, want, **TOL)


@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 4, 2)], ids=["NC", "NCHW"])
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
def test_common_nn_nllloss_reference(shape, weighted):
    """cross_entropy is nll_loss of log_softmax: it equals common_nn's nllloss_reference over the
    log-softmax rows ((N, C, H, W) moved to (N*H*W, C)), with a weight and one ignored (-100)
    target, every reduction."""
    common_nn = pytest.importorskip("torch.testing._internal.common_nn")
    x = torch.randn(shape, generator=_gen(0), dtype=F64)
    target = torch.randint(0, 3, shape[:1] + shape[2:], generator=_gen(1))
    target.view(-1)[0] = -100
    w = torch.rand(3, generator=_gen(2), dtype=F64) + 0.5 if weighted else None
    rows = torch.log_softmax(x, 1).movedim(1, -1).reshape(-1, 3)
    for reduction in ("mean", "sum", "none"):
        want = common_nn.nllloss_reference(rows, target.reshape(-1), w, reduction=reduction)
        got = ct.cross_entropy(x, target, weight=w, reduction=reduction)
        torch.testing.assert_close(got, want.reshape(got.shape), **TOL)
