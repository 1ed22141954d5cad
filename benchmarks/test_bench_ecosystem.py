"""Ecosystem benchmarks: cbce where users come from.

* ``log_loss``: ``cbce.metrics.log_loss`` vs ``sklearn.metrics.log_loss`` at N = 10^6, three
  input forms (0/1 labels with positive-class probabilities; ``predict_proba`` columns with
  sample weights; string labels). Target: >= 20x on the numeric forms.
* ``torch_loss``: forward + backward of the loss alone on 10^6 leaf logits/probabilities,
  ``cbce.torch`` vs ``torch.nn`` (what the fused kernel changes).
* ``torch_train``: one CPU training step (zero_grad, forward, loss, backward, SGD step) of a
  logistic regression and of a 2-layer MLP (16 -> 32 -> 1) on 10^6 rows x 16 float32
  features, with each loss from each library.

Self-contained: cbce, numpy and pytest-benchmark; the scikit-learn and PyTorch cases skip when
those are missing. Inputs are built in module fixtures, outside the timing; each result is
checked against the peer's once, untimed, before it is timed. ``--bench-quick`` (from
benchmarks/conftest.py, where present) or ``CBCE_BENCH_QUICK=1`` caps N at 1000 for CI.
Threads: every library's default (cbce: OpenMP's; PyTorch: torch.get_num_threads();
scikit-learn's log_loss is single-threaded NumPy).
"""
import os

import numpy as np
import pytest

import cbce
from cbce.metrics import log_loss as cbce_log_loss

N_FULL = 10**6
N_QUICK = 1000
FEATURES, HIDDEN = 16, 32


def _quick(config):
    opt = config.getoption("--bench-quick", default=None)  # None: no benchmarks/conftest.py
    if opt is not None:
        return bool(opt)
    return os.environ.get("CBCE_BENCH_QUICK", "") not in ("", "0")


@pytest.fixture(scope="module")
def n(request):
    return N_QUICK if _quick(request.config) else N_FULL


def _info(benchmark, op, who, n, **extra):
    benchmark.extra_info.update({"op": op, "impl": who, "n": n,
                                 "cbce_threads": cbce.show_config(False)["default_n_threads"],
                                 "loadavg_1m": os.getloadavg()[0], **extra})


# --------------------------------------------------------------------------------------------------
# log_loss

@pytest.fixture(scope="module")
def log_loss_inputs(n):
    rng = np.random.default_rng(7)
    t = (rng.uniform(size=n) < 0.3).astype(np.int64)
    p = np.clip(0.3 + 0.4 * (t - 0.5) + 0.25 * rng.standard_normal(n), 0, 1)
    return {
        "labels01": ((t, p), {}),
        "predict_proba_weighted": ((t, np.stack([1 - p, p], axis=1)),
                                   {"sample_weight": rng.uniform(0.5, 2.0, n)}),
        "strings": ((np.where(t == 1, "churn", "stay"), p), {}),
    }


@pytest.mark.parametrize("who", ["cbce", "sklearn"])
@pytest.mark.parametrize("form", ["labels01", "predict_proba_weighted", "strings"])
def test_log_loss(benchmark, log_loss_inputs, n, form, who):
    """One log_loss call on 10^6 samples, cbce and scikit-learn in one group."""
    sk_metrics = pytest.importorskip("sklearn.metrics")
    fn = cbce_log_loss if who == "cbce" else sk_metrics.log_loss
    args, kwargs = log_loss_inputs[form]
    got, want = fn(*args, **kwargs), sk_metrics.log_loss(*args, **kwargs)
    assert got == pytest.approx(want, rel=1e-12), f"{who}: {got!r} vs scikit-learn {want!r}"
    benchmark.group = f"log_loss-{form}-N{n:.0e}"
    _info(benchmark, "log_loss", who, n, form=form)
    benchmark(fn, *args, **kwargs)


# --------------------------------------------------------------------------------------------------
# PyTorch

@pytest.fixture(scope="module")
def torch_mod():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def train_inputs(torch_mod, n):
    g = torch_mod.Generator().manual_seed(0)
    X = torch_mod.randn(n, FEATURES, generator=g)
    w_true = torch_mod.randn(FEATURES, 1, generator=g)
    y = ((X @ w_true + 0.5 * torch_mod.randn(n, 1, generator=g)) > 0).float()
    return X, y


def _loss_fns(torch_mod, kind):
    import cbce.torch as ct
    if kind == "logits":
        return {"cbce": ct.BCEWithLogitsLoss(), "torch": torch_mod.nn.BCEWithLogitsLoss()}
    return {"cbce": ct.BCELoss(), "torch": torch_mod.nn.BCELoss()}


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("kind", ["logits", "probs"])
def test_torch_loss_forward_backward(benchmark, torch_mod, train_inputs, n, kind, who):
    """loss_fn(x, y).backward() on N leaf values: the loss's own cost in a training step."""
    X, y = train_inputs
    y = y[:, 0].contiguous()
    x = X[:, 0].contiguous() if kind == "logits" else torch_mod.sigmoid(X[:, 0]).contiguous()
    x.requires_grad_(True)
    loss_fn = _loss_fns(torch_mod, kind)[who]

    def step():
        x.grad = None
        loss = loss_fn(x, y)
        loss.backward()
        return loss

    got = step().item(), x.grad.clone()
    want = _loss_fns(torch_mod, kind)["torch"](x, y)
    x.grad = None
    want.backward()
    assert got[0] == pytest.approx(want.item(), rel=1e-5)
    assert torch_mod.allclose(got[1], x.grad, rtol=1e-4, atol=1e-12)
    benchmark.group = f"torch_loss-{kind}-float32-N{n:.0e}"
    _info(benchmark, "torch_loss", who, n, kind=kind, torch_threads=torch_mod.get_num_threads())
    benchmark(step)


def _model(torch_mod, arch, kind):
    torch_mod.manual_seed(0)
    nn = torch_mod.nn
    layers = [nn.Linear(FEATURES, 1)] if arch == "logreg" else \
        [nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1)]
    if kind == "probs":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("kind", ["logits", "probs"])
@pytest.mark.parametrize("arch", ["logreg", "mlp"])
def test_torch_train_step(benchmark, torch_mod, train_inputs, n, arch, kind, who):
    """One full-batch SGD step on N rows: zero_grad, forward, loss, backward, step."""
    X, y = train_inputs
    model = _model(torch_mod, arch, kind)
    opt = torch_mod.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = _loss_fns(torch_mod, kind)[who]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss

    with torch_mod.no_grad():  # untimed check: the same loss as torch's module
        want = _loss_fns(torch_mod, kind)["torch"](model(X), y).item()
    assert step().item() == pytest.approx(want, rel=1e-5)
    benchmark.group = f"torch_train-{arch}-{kind}-float32-N{n:.0e}"
    _info(benchmark, "torch_train", who, n, arch=arch, kind=kind,
          torch_threads=torch_mod.get_num_threads())
    benchmark(step)
