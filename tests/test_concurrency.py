"""Concurrency: many Python threads at once, the GIL released in the kernels, threadpoolctl's
limits honoured (docs/design.md, "Reliability").

CBCE_CONCURRENCY_ITERATIONS sets the iterations per thread (default 100; tools/reliability.py
runs 1000). Wall-clock speed-ups are measured and reported by tools/reliability.py, never
asserted here.
"""
import itertools
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import cbce
from cbce._dispatch import kernels
from _stats import record

THREADS = 16
ITERATIONS = int(os.environ.get("CBCE_CONCURRENCY_ITERATIONS", "100"))
SMALL, LARGE = 1001, 40_003            # below and above the parallel threshold (16384)


def _inputs(n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 4, n).astype(dtype)
    p = rng.uniform(0, 1, n).astype(dtype)
    y = (rng.uniform(0, 1, n) < 0.3).astype(dtype)
    w = rng.uniform(0.5, 2, n).astype(dtype)
    for a in (x, p, y, w):
        a.setflags(write=False)            # shared by every thread: read-only
    return x, p, y, w


def _cases():
    """(name, call(out_arrays) -> tuple of results, output arrays factory) for every entry point,
    n_threads in {1, 2, None}, a small and a large size, float32 and float64."""
    cases = []
    for n, dtype, nt in itertools.product((SMALL, LARGE), (np.float64, np.float32), (1, 2, None)):
        x, p, y, w = _inputs(n, dtype, seed=n)
        kw = {"sample_weight": w, "pos_weight": 2.0, "n_threads": nt}
        tag = f"{n}-{np.dtype(dtype).name}-nt{nt}"
        cases += [
            (f"bce-logits-{tag}", lambda o, x=x, y=y, kw=kw: (cbce.bce(y, x, from_logits=True, **kw),), 0, x),
            (f"bce-none-probs-{tag}", lambda o, p=p, y=y, kw=kw: (cbce.bce(y, p, reduction="none", **kw),), 0, x),
            (f"bce_grad-out-{tag}", lambda o, x=x, y=y, kw=kw: (cbce.bce_grad(y, x, from_logits=True, out=o[0], **kw),), 1, x),
            (f"bce_loss_and_grad-probs-{tag}",
             lambda o, p=p, y=y, kw=kw: cbce.bce_loss_and_grad(y, p, out=o[0], reduction="weighted_mean", **kw), 1, x),
            (f"bce_grad_hess-{tag}",
             lambda o, x=x, y=y, kw=kw: cbce.bce_grad_hess(y, x, grad_out=o[0], hess_out=o[1], **kw), 2, x),
        ]
    return cases


def _bytes(results):
    return [np.asarray(r).tobytes() for r in results]


def test_many_threads_at_once_give_the_serial_results():
    """16 Python threads call every entry point at once (shared read-only inputs, private
    outputs, n_threads 1/2/None): every result is bitwise the one computed serially before."""
    cases = _cases()
    expected = [_bytes(call([np.empty_like(like) for _ in range(k)])) for _, call, k, like in cases]
    barrier = threading.Barrier(THREADS)
    failures, counts = [], [0] * THREADS

    def worker(tid):
        outs = [[np.empty_like(like) for _ in range(k)] for _, _, k, like in cases]
        barrier.wait()
        for it in range(ITERATIONS):
            i = (tid * 7 + it) % len(cases)
            try:
                got = _bytes(cases[i][1](outs[i]))
            except Exception as exc:  # pragma: no cover - reported below
                failures.append((tid, it, cases[i][0], repr(exc)))
                return
            if got != expected[i]:
                failures.append((tid, it, cases[i][0], "differs from the serial result"))
            counts[tid] += 1

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not failures, failures[:5]
    assert sum(counts) == THREADS * ITERATIONS
    record("concurrency", threads=THREADS, iterations=ITERATIONS, calls=sum(counts), cases=len(cases))


@pytest.mark.parametrize(("func", "dtype"), [("bce", np.float64), ("bce_grad", np.float32),
                                             ("bce_loss_and_grad", np.float64), ("bce_grad_hess", np.float32)])
def test_kernels_release_the_gil(func, dtype):
    """While one thread is inside a kernel call, another thread runs Python code.

    With a switch interval (0.5 s) far above the call's own time, a thread waiting for the GIL
    can only run during the call if the call releases it: a GIL-holding C call (sorted() of a
    list, bytes.join) counts exactly 0 here. Each call then waits ~0.5 s to get the GIL back."""
    x, _, y, _ = _inputs(4_000_000, dtype, seed=5)     # a call of ~1-40 ms
    kwargs = {} if func == "bce_grad_hess" else {"from_logits": True}
    counter, stop = [0], [False]

    def spin():
        while not stop[0]:
            counter[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        # Calls until the other thread runs during one (a released GIL), for at most 0.3 s: a
        # fast kernel's call (~1 ms for the float32 gradient with AVX-512) can end before the
        # woken thread is scheduled on a loaded machine. The window is sound: from here this
        # thread holds the GIL for a full switch interval (0.5 s) unless a call releases it, so
        # a GIL-holding call cannot let the other thread in between `before` and `delta`.
        start, delta = time.perf_counter(), 0
        while not delta and time.perf_counter() - start < 0.3:
            before = counter[0]
            getattr(cbce, func)(y, x, n_threads=1, **kwargs)
            delta = counter[0] - before
    finally:
        stop[0] = True
        spinner.join()
        sys.setswitchinterval(old)
    assert delta > 0, "the other thread never ran: the GIL was held through the call"


THREADPOOL_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits
    import cbce
    from cbce._dispatch import kernels

    def tasks():
        return len(os.listdir("/proc/self/task"))

    x = np.zeros(200_000)
    assert any(i["user_api"] == "openmp" for i in threadpool_info()), threadpool_info()
    start = tasks()
    with threadpool_limits(limits=1):
        assert kernels.max_threads() == 1, kernels.max_threads()
        limited = cbce.bce(x, x, from_logits=True)
        during = tasks()
    team = kernels.max_threads()
    free = cbce.bce(x, x, from_logits=True)
    after = tasks()
    print(start, during, after, team)
    assert limited == free
    assert during == start, ("OpenMP threads started under threadpool_limits(1)", start, during)
    assert after == start + team - 1, ("the unlimited call did not use its team", start, after, team)
""")


def test_threadpool_limits_one_runs_one_openmp_thread(tmp_path):
    """Under threadpoolctl's threadpool_limits(1) cbce's OpenMP runtime reports 1 thread and
    starts no worker (counted in /proc, in a fresh process); without it the team starts."""
    if not cbce.show_config(False)["openmp"] or kernels.max_threads() < 2:
        pytest.skip("needs an OpenMP build and at least 2 OpenMP threads")
    pytest.importorskip("threadpoolctl")
    proc = subprocess.run([sys.executable, "-c", THREADPOOL_SCRIPT], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, OMP_NUM_THREADS="2"),
                          cwd=tmp_path)              # not the repository: its cbce/ is unbuilt
    assert proc.returncode == 0, proc.stdout + proc.stderr
