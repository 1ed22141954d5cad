"""cbce.torch against torch.nn in the same run (docs/guide/pytorch.md, "Speed").

* ``torch_bce_fwd_bwd``: forward + backward of BCEWithLogitsLoss / BCELoss on N = 10^6 leaf
  tensors, float32 and float64, 1 and 2 threads. Target: cbce >= 3x torch.
* ``torch_ce_fwd_bwd``: CrossEntropyLoss forward + backward at 10^5 x 1000 and 10^6 x 10 (class
  indices), float32, 1 and 2 threads. Target: cbce >= 2x torch.
* ``torch_small``: the same at N = 1000, where the custom-operator dispatch (Python facade,
  dispatcher, autograd.Function) is most of the time.
* ``torch_compiled_step``: torch.compile (inductor, CPU) of a linear model + loss, forward and
  backward, with cbce's loss (an opaque operator to inductor) and with torch's (which inductor
  fuses into its generated C++).

Inputs are built outside the timing; each pair is checked against each other once, untimed.
``CBCE_BENCH_QUICK=1`` shrinks every size for CI. Threads: torch.set_num_threads and
threadpoolctl's OpenMP limit (cbce's kernels) set together.
"""
import os

import pytest

torch = pytest.importorskip("torch")
threadpoolctl = pytest.importorskip("threadpoolctl")
import cbce.torch as ct  # noqa: E402

QUICK = os.environ.get("CBCE_BENCH_QUICK") == "1"
N_BCE = 1000 if QUICK else 10**6
CE_SHAPES = [(100, 1000), (1000, 10)] if QUICK else [(10**5, 1000), (10**6, 10)]
THREADS = [1, 2]
F = torch.nn.functional


@pytest.fixture(params=THREADS, ids=lambda t: f"{t}thr")
def threads(request):
    old = torch.get_num_threads()
    torch.set_num_threads(request.param)
    with threadpoolctl.threadpool_limits(limits=request.param, user_api="openmp"):
        yield request.param
    torch.set_num_threads(old)


def _fwd_bwd(loss_fn, x, y):
    x.grad = None
    loss = loss_fn(x, y)
    loss.backward()
    return loss


def _bce_inputs(kind, dtype, n):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, generator=g, dtype=dtype) * 3
    if kind == "probs":
        x = torch.sigmoid(x)
    y = (torch.rand(n, generator=g) < 0.4).to(dtype)
    return x.requires_grad_(True), y


BCE = {"logits": (ct.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss),
       "probs": (ct.BCELoss, torch.nn.BCELoss)}


def _check_pair(ours, theirs, x, y, rtol):
    lo = _fwd_bwd(ours, x, y).detach().double()
    go = x.grad.clone().double()
    lt = _fwd_bwd(theirs, x, y).detach().double()
    gt = x.grad.clone().double()
    torch.testing.assert_close(lo, lt, rtol=rtol, atol=0)
    torch.testing.assert_close(go, gt, rtol=rtol, atol=rtol * gt.abs().max().item())


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("kind", list(BCE))
def test_torch_bce_fwd_bwd(benchmark, kind, dtype, who, threads):
    ours, theirs = (m() for m in BCE[kind])
    x, y = _bce_inputs(kind, dtype, N_BCE)
    if who == "cbce":
        _check_pair(ours, theirs, x, y, 1e-4 if dtype == torch.float32 else 1e-10)
    benchmark.group = f"torch_bce_fwd_bwd-{kind}-{str(dtype)[6:]}-{threads}thr"
    benchmark(_fwd_bwd, ours if who == "cbce" else theirs, x, y)


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_torch_ce_fwd_bwd(benchmark, shape, who, threads):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g).requires_grad_(True)
    y = torch.randint(0, shape[1], (shape[0],), generator=g)
    ours, theirs = ct.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    if who == "cbce":
        _check_pair(ours, theirs, x, y, 1e-4)
    benchmark.group = f"torch_ce_fwd_bwd-{shape[0]}x{shape[1]}-{threads}thr"
    benchmark(_fwd_bwd, ours if who == "cbce" else theirs, x, y)


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("kind", list(BCE))
def test_torch_small(benchmark, kind, who):
    ours, theirs = (m() for m in BCE[kind])
    x, y = _bce_inputs(kind, torch.float32, 1000)
    benchmark.group = f"torch_small-{kind}-N1000"
    benchmark(_fwd_bwd, ours if who == "cbce" else theirs, x, y)


@pytest.mark.parametrize("who", ["cbce", "torch"])
@pytest.mark.parametrize("loss", ["BCEWithLogitsLoss", "CrossEntropyLoss"])
def test_torch_compiled_step(benchmark, loss, who, threads):
    torch.manual_seed(0)
    n, d, c = (1000, 16, 10) if QUICK else (10**5, 64, 10)
    x = torch.randn(n, d)
    if loss == "CrossEntropyLoss":
        y = torch.randint(0, c, (n,))
    else:
        y = (torch.rand(n, c) < 0.4).float()
    model = torch.nn.Linear(d, c)
    loss_fn = getattr(ct if who == "cbce" else torch.nn, loss)()
    step = torch.compile(lambda x, y: loss_fn(model(x), y), fullgraph=True)

    def run():
        model.zero_grad()
        out = step(x, y)
        out.backward()
        return out

    run()  # compile outside the timing
    benchmark.group = f"torch_compiled_step-{loss}-{threads}thr"
    benchmark(run)
