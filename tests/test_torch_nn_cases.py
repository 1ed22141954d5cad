"""PyTorch's own loss test cases, restated for cbce.torch: the facts they check, written for
cbce (docs/guide/pytorch.md). Skipped where torch is not installed.

Each test named ``test_bce_*`` or ``test_cross_entropy_*`` carries the name of the upstream test
in test/test_nn.py (TestNN and TestNNDeviceType) that it mirrors. The BCE cases were checked
line by line against test/test_mps.py, which keeps the same tests under the same names, device
aside; the cross-entropy ones against common_nn's reference functions below. Tests
named ``test_common_nn_*`` mirror torch/testing/_internal/common_nn.py (installed with torch):
the ``BCELoss_*`` / ``BCEWithLogitsLoss_*`` criterion entries (``bceloss_no_reduce_test`` and
siblings), ``classification_criterion_no_batch``, and the reference functions
``cross_entropy_loss_reference`` and ``nlllossNd_reference``, which are imported and called.

Deliberate differences, each asserted where it arises: errors are ValueError naming the
argument where torch raises RuntimeError; targets outside [0, 1] raise for the logits loss too
(common_nn's unbatched BCEWithLogitsLoss entry feeds normal targets); a class index >= C raises
ValueError with its position.
"""
import pytest

torch = pytest.importorskip("torch")
import cbce.torch as ct  # noqa: E402

F = torch.nn.functional
F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-12)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _nll_reference(logp, target, weight=None, ignore_index=-100):
    """common_nn's nllloss reference, in plain loops: the mean over the weight of kept targets."""
    n, c = logp.shape[0], logp.shape[1]
    num, den = 0.0, 0.0
    flat_lp = logp.movedim(1, -1).reshape(-1, c)
    for i, t in enumerate(target.reshape(-1).tolist()):
        if t == ignore_index:
            continue
        w = 1.0 if weight is None else float(weight[t])
        num -= w * float(flat_lp[i, t])
        den += w
    return num / den


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


@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 4, 2)], ids=["NC", "NCHW"])
@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
def test_cross_entropy_matches_common_nn_nll_reference(shape, weighted):
    """cross_entropy is nll_loss of log_softmax, by common_nn's loop reference (weight,
    ignore_index)."""
    x = torch.randn(shape, generator=_gen(0), dtype=F64)
    target = torch.randint(0, 3, shape[:1] + shape[2:], generator=_gen(1))
    target.view(-1)[0] = -100
    w = torch.rand(3, generator=_gen(2), dtype=F64) + 0.5 if weighted else None
    got = ct.cross_entropy(x, target, weight=w)
    want = _nll_reference(torch.log_softmax(x, 1), target, w)
    assert got.item() == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.05, 0.15, 0.6])
def test_cross_entropy_label_smoothing_consistent_index_target_and_probs(label_smoothing,
                                                                         reduction):
    """Label smoothing with class indices equals it with their one-hot probabilities."""
    n, c = 10, 4
    x = torch.randn(n, c, generator=_gen(0), dtype=F64)
    target = torch.randint(0, c, (n,), generator=_gen(1))
    onehot = F.one_hot(target, c).to(F64)
    torch.testing.assert_close(
        ct.cross_entropy(x, target, reduction=reduction, label_smoothing=label_smoothing),
        ct.cross_entropy(x, onehot, reduction=reduction, label_smoothing=label_smoothing), **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_label_smoothing_with_probs(reduction):
    """Label smoothing of probabilities: the target becomes (1 - ls) p + ls / C."""
    n, c, ls = 10, 4, 0.3
    x = torch.randn(n, c, generator=_gen(0), dtype=F64)
    p = torch.rand(n, c, generator=_gen(1), dtype=F64).softmax(1)
    torch.testing.assert_close(ct.cross_entropy(x, p, reduction=reduction, label_smoothing=ls),
                               ct.cross_entropy(x, p * (1 - ls) + ls / c, reduction=reduction),
                               **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_label_smoothing_weight_ignore_indices(reduction):
    """Weights, ignore_index and label smoothing together: ignored samples drop out."""
    x = torch.randn(6, 5, generator=_gen(0), dtype=F64)
    target = torch.tensor([0, 1, 2, -1, 3, -1])
    w = torch.rand(5, generator=_gen(1), dtype=F64)
    kept = target != -1
    full = ct.cross_entropy(x, target, weight=w, ignore_index=-1, label_smoothing=0.2,
                            reduction=reduction)
    ref = F.cross_entropy(x, target, weight=w, ignore_index=-1, label_smoothing=0.2,
                          reduction=reduction)
    torch.testing.assert_close(full, ref, **TOL)
    if reduction == "none":
        assert (full[~kept] == 0).all()
    else:
        sub = ct.cross_entropy(x[kept], target[kept], weight=w, label_smoothing=0.2,
                               reduction=reduction)
        torch.testing.assert_close(full, sub, **TOL)


def test_cross_entropy_loss_precision():
    """float32 logits agree with float64 to float32's precision on a (10, 1024, 2, 2) problem."""
    x = torch.randn(10, 1024, 2, 2, generator=_gen(0))
    target = torch.randint(0, 1024, (10, 2, 2), generator=_gen(1))
    got = ct.cross_entropy(x, target)
    want = ct.cross_entropy(x.double(), target)
    assert got.item() == pytest.approx(want.item(), rel=1e-6)


def test_cross_entropy_out_of_bounds_class_index_raises():
    """A class index >= C raises (torch: an indexing error; cbce: ValueError with the index)."""
    x = torch.randn(2, 3, 4, 4)
    target = torch.zeros(2, 4, 4, dtype=torch.long)
    target[1, 2, 3] = 3
    with pytest.raises(ValueError, match=r"found 3 at index \(1, 2, 3\)"):
        ct.cross_entropy(x, target)


def test_cross_entropy_all_ignored_mean_is_nan_as_torch():
    """Every target ignored: "mean" is 0/0, NaN, as in torch."""
    x = torch.randn(3, 4, dtype=F64)
    target = torch.full((3,), -100)
    assert torch.isnan(F.cross_entropy(x, target)).item()
    assert torch.isnan(ct.cross_entropy(x, target)).item()


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


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_prob_target_all_reductions(reduction):
    """Class-probability targets with weights, every reduction, against torch."""
    x = torch.randn(6, 5, 3, generator=_gen(0), dtype=F64)
    p = torch.rand(6, 5, 3, generator=_gen(1), dtype=F64).softmax(1)
    w = torch.rand(5, generator=_gen(2), dtype=F64)
    torch.testing.assert_close(ct.CrossEntropyLoss(w, reduction=reduction)(x, p),
                               F.cross_entropy(x, p, w, reduction=reduction), **TOL)


@pytest.mark.parametrize("target_kind", ["indices", "probs"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_unit_weights(target_kind, reduction):
    """A weight of ones is no weight (upstream: test_cross_entropy_loss_prob_target_unit_weights
    and test_cross_entropy_loss_index_target_unit_weights)."""
    x = torch.randn(6, 5, generator=_gen(0), dtype=F64)
    if target_kind == "indices":
        target = torch.randint(0, 5, (6,), generator=_gen(1))
    else:
        target = torch.rand(6, 5, generator=_gen(1), dtype=F64).softmax(1)
    torch.testing.assert_close(
        ct.cross_entropy(x, target, weight=torch.ones(5, dtype=F64), reduction=reduction),
        ct.cross_entropy(x, target, reduction=reduction), **TOL)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_weight", "weight"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_one_hot_target(weighted, reduction):
    """Class indices and their one-hot probabilities agree; with a weight, "mean" differs as in
    torch (the indices' mean divides by the kept targets' total weight, the probabilities' by
    the number of samples)."""
    x = torch.randn(6, 5, generator=_gen(0), dtype=F64)
    target = torch.randint(0, 5, (6,), generator=_gen(1))
    onehot = F.one_hot(target, 5).to(F64)
    w = torch.rand(5, generator=_gen(2), dtype=F64) if weighted else None
    by_index = ct.cross_entropy(x, target, weight=w, reduction=reduction)
    by_probs = ct.cross_entropy(x, onehot, weight=w, reduction=reduction)
    if weighted and reduction == "mean":
        by_probs = by_probs * target.numel() / w[target].sum()
    torch.testing.assert_close(by_index, by_probs, **TOL)


def test_cross_entropy_label_smoothing_errors():
    """label_smoothing above 1 raises (torch: RuntimeError; cbce: ValueError naming it). Below 0
    cbce raises too, a deliberate difference: torch 2.13 computes a loss for -0.1."""
    x, target = torch.randn(3, 5), torch.randint(0, 5, (3,))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, target, label_smoothing=1.2)
    assert torch.isfinite(F.cross_entropy(x, target, label_smoothing=-0.1))
    for ls in (-0.1, 1.2):
        with pytest.raises(ValueError, match="label_smoothing"):
            ct.cross_entropy(x, target, label_smoothing=ls)
