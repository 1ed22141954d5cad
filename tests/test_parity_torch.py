"""Parity with PyTorch's binary_cross_entropy(_with_logits), loss and autograd gradient
(README, "Semantics")."""
import numpy as np
import pytest

import cbce

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {np.dtype(np.float64): 1e-13, np.dtype(np.float32): 32 * float(np.finfo(np.float32).eps)}
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
REDUCTIONS = ["none", "sum", "mean"]


def _torch_loss_and_grad(fn, x, y, reduction, **kwargs):
    xt = torch.tensor(x, requires_grad=True)
    kwargs = {k: torch.tensor(v) for k, v in kwargs.items()}
    loss = fn(xt, torch.tensor(y), reduction=reduction, **kwargs)
    loss.sum().backward()
    return loss.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_probabilities_match_torch_binary_cross_entropy(dtype, reduction, rng):
    """Loss and gradient from probabilities (0 and 1 included) equal F.binary_cross_entropy with weight."""
    shape = (50, 4)
    p = rng.uniform(0, 1, shape).astype(dtype)
    p[0] = [0.0, 1.0, 0.0, 1.0]  # saturated: the -100 clamp and the float32(1e-12) floor
    y = rng.uniform(0, 1, shape).astype(dtype)
    y[0] = [1.0, 0.0, 0.0, 1.0]
    w = rng.uniform(0.5, 2.0, shape).astype(dtype)
    t_loss, t_grad = _torch_loss_and_grad(F.binary_cross_entropy, p, y, reduction, weight=w)
    loss, grad = cbce.bce_loss_and_grad(y, p, sample_weight=w, reduction=reduction)
    tol = TOL[np.dtype(dtype)]
    np.testing.assert_allclose(loss, t_loss, rtol=tol, atol=0)
    # torch computes w·(x - y)/max(x(1-x), ε), cbce w·[(1-y)x - y(1-x)]/…: compare on the terms' size.
    p64, y64 = p.astype(np.float64), y.astype(np.float64)
    terms = w * ((1 - y64) * p64 + y64 * (1 - p64)) / np.maximum(p64 * (1 - p64), float(np.float32(1e-12)))
    terms = terms / (p.size if reduction == "mean" else 1)
    assert np.all(np.abs(grad - t_grad) <= tol * terms)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_logits_match_torch_with_logits_weight_and_pos_weight(dtype, reduction, rng):
    """Loss and gradient from logits equal F.binary_cross_entropy_with_logits with weight and pos_weight."""
    shape = (60, 5)
    x = rng.normal(0, 4, shape).astype(dtype)
    y = rng.uniform(0, 1, shape).astype(dtype)
    y[::3], y[1::3] = 0, 1
    w = rng.uniform(0.5, 2.0, shape).astype(dtype)
    pw = rng.uniform(0.5, 5.0, shape[1]).astype(dtype)  # per class, torch's broadcast
    t_loss, t_grad = _torch_loss_and_grad(F.binary_cross_entropy_with_logits, x, y, reduction,
                                          weight=w, pos_weight=pw)
    loss, grad = cbce.bce_loss_and_grad(y, x, from_logits=True, sample_weight=w, pos_weight=pw,
                                        reduction=reduction)
    tol = TOL[np.dtype(dtype)]
    x64, y64, pw64 = x.astype(np.float64), y.astype(np.float64), pw.astype(np.float64)
    # torch evaluates (1-y)·x + (1+(pw-1)y)·softplus(-x): up to ~2ε·|x| absolute lost to cancellation.
    eps = float(np.finfo(dtype).eps)
    slack = 4 * eps * w * (1 + pw64) * (np.abs(x64) + 1)
    if reduction == "none":
        assert np.all(np.abs(loss - t_loss) <= tol * np.abs(t_loss) + slack)
    else:
        assert abs(loss - float(t_loss)) <= tol * abs(float(t_loss)) + slack.sum()
    # torch's backward, (pw·y + 1 - y)·σ(x) - pw·y, cancels: up to ~2ε·w·(1 + pw) absolute.
    n = x.size if reduction == "mean" else 1
    sig = 1 / (1 + np.exp(-x64))
    terms = w * ((1 - y64) * sig + pw64 * y64 * (1 - sig)) / n
    assert np.all(np.abs(grad - t_grad) <= tol * terms + 4 * eps * w * (1 + pw64) / n)
