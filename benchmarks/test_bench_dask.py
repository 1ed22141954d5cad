"""cbce.dask vs the same computation in dask's own array functions (docs/guide/dask.md).

2·10^8 float64 logits and labels (1.6 GB each) held in memory as NumPy arrays, viewed as dask
arrays of 64 chunks, on dask's threaded scheduler (one worker thread per core). Timed, each on
the same inputs:

  loss       mean BCE of logits                  cbce.dask.bce            vs  da.mean(da.logaddexp(0, x) - y*x)
  loss_grad  mean BCE and its gradient, one      cbce.dask.bce_loss_and_  vs  the same mean and (1/(1+da.exp(-x)) - y)/N
             dask.compute; the gradient chunks   grad                         in one dask.compute
             are stored into one preallocated array (da.store) for every implementation

Implementations: ``cbce_dask`` (n_threads=None: an OpenMP team inside each task), ``cbce_dask_t1``
(n_threads=1: dask's threads only), ``dask`` (dask.array functions) and ``cbce`` (one NumPy-path
call on the whole arrays, no dask: the floor for the dask overhead). Results go to extra_info
(op "dask_loss" / "dask_loss_grad"); report.py does not tabulate them yet; docs/guide/dask.md
quotes them. --bench-quick: 64 chunks of 1000 elements. The full size needs ~5 GB of RAM
(inputs 3.2 GB, gradient 1.6 GB) and is skipped with the reason when less is available.
"""

import os
import time

import numpy as np
import pytest

import cases

da = pytest.importorskip("dask.array", reason="dask[array] is not installed (pip install 'dask[array]')")
import dask  # noqa: E402
import cbce  # noqa: E402
import cbce.dask as cd  # noqa: E402

N_FULL = 2 * 10**8
CHUNKS = 64
ROUNDS = 3
IMPLS = ["cbce_dask", "cbce_dask_t1", "dask", "cbce"]
OPS = ["loss", "loss_grad"]


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@pytest.fixture(scope="module")
def inputs(request):
    n = CHUNKS * cases.QUICK_MAX_N if request.config.getoption("--bench-quick") else N_FULL
    need = 3 * 8 * n + 2 * 10**9  # x, y, the gradient, and headroom for dask's temporaries
    avail = _mem_available()
    if avail is not None and avail < need:
        pytest.skip(f"needs ~{need / 1e9:.1f} GB of free memory for N = {n:.0e}, "
                    f"{avail / 1e9:.1f} GB available")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    x *= 3.0
    y = (rng.random(n) < 0.3).astype(np.float64)
    X = da.from_array(x, chunks=n // CHUNKS, name="bench-x")
    Y = da.from_array(y, chunks=n // CHUNKS, name="bench-y")
    grad_out = np.zeros(n)  # touched once, reused by every implementation
    yield {"n": n, "x": x, "y": y, "X": X, "Y": Y, "grad_out": grad_out}


def _busy_cpu_s():
    """CPU seconds spent busy by every process on the machine (Linux /proc/stat), else None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait


def _dask_loss(Y, X):
    return da.mean(da.logaddexp(0.0, X) - Y * X)


def _dask_grad(Y, X):
    return (1.0 / (1.0 + da.exp(-X)) - Y) / X.size


def _call(impl, op, d):
    """A zero-argument callable doing op with impl; returns the loss (a float)."""
    X, Y, out = d["X"], d["Y"], d["grad_out"]
    if impl == "cbce":
        if op == "loss":
            return lambda: cbce.bce(d["y"], d["x"], from_logits=True)
        return lambda: cbce.bce_loss_and_grad(d["y"], d["x"], from_logits=True, out=out)[0]
    nt = 1 if impl == "cbce_dask_t1" else None

    def run():
        if op == "loss":
            loss = cd.bce(Y, X, from_logits=True, n_threads=nt) if impl != "dask" else _dask_loss(Y, X)
            return float(loss.compute(scheduler="threads"))
        if impl == "dask":
            loss, grad = _dask_loss(Y, X), _dask_grad(Y, X)
        else:
            loss, grad = cd.bce_loss_and_grad(Y, X, from_logits=True, n_threads=nt)
        stored = da.store(grad, out, lock=False, compute=False)
        value, _ = dask.compute(loss, stored, scheduler="threads")
        return float(value)
    return run


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("op", OPS)
def test_dask(benchmark, inputs, op, impl):
    """One op on 2·10^8 float64 logits in 64 chunks, threaded scheduler."""
    fn = _call(impl, op, inputs)
    want = _call("cbce", "loss", inputs)()
    got = fn()  # untimed warm-up and check: every implementation computes the same loss
    assert abs(got - want) <= 1e-9 * abs(want), (impl, got, want)
    wall0, busy0, own0 = time.perf_counter(), _busy_cpu_s(), sum(os.times()[:2])
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1)
    wall, busy, own = time.perf_counter() - wall0, _busy_cpu_s(), sum(os.times()[:2]) - own0
    n = inputs["n"]
    benchmark.group = f"dask-{op}-float64-N{n:.0e}-{CHUNKS}chunks"
    benchmark.extra_info.update({
        "case": benchmark.group, "op": f"dask_{op}", "impl": impl,
        "role": "peer" if impl == "dask" else "cbce", "n": n, "chunks": CHUNKS,
        "dtype": "float64", "scheduler": "threads", "dask_workers": cases.n_cores(),
        "n_threads": 1 if impl == "cbce_dask_t1" else None,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "dask_version": dask.__version__,
        "loadavg_1m": os.getloadavg()[0], "wall_s": wall,
        # CPU seconds of this process per call (all its threads): less sensitive than the wall
        # time to other processes on a shared machine; other_load: cores they kept busy meanwhile.
        "cpu_s_per_call": own / ROUNDS,
        "other_load": None if busy is None or busy0 is None else
        round(max(0.0, (busy - busy0 - own) / wall), 2)})
