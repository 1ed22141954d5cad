"""Leaks: repeated calls of every entry point, error paths included, hold no memory
(docs/design.md, "Reliability").

Three measures after a warm-up: Python allocations (tracemalloc), the C heap in use (glibc's
mallinfo2: the kernels' malloc'd block partials, flags and per-thread tiles live there) and the
resident set size. CBCE_LEAK_CALLS sets the calls per case (default 1000; tools/reliability.py
runs 10^5 per entry point). The valgrind memcheck run is in tools/reliability.py.
"""
import ctypes
import gc
import os
import tracemalloc

import numpy as np
import pytest

import cbce
from _stats import record

CALLS = int(os.environ.get("CBCE_LEAK_CALLS", "1000"))
rng = np.random.default_rng(8)
X = rng.normal(0, 3, 64)
P = rng.uniform(0, 1, 64)
Y = (rng.uniform(0, 1, 64) < 0.5).astype(float)
W = rng.uniform(0.5, 2, 64)
BIG = rng.normal(0, 3, 40_000)               # above the parallel threshold: team + tiles
BIG_Y = np.zeros(BIG.size)
OUT, OUT2, BIG_OUT = np.empty(64), np.empty(64), np.empty(BIG.size)
BAD_Y = Y.copy()
BAD_Y[40] = 1.5


def _raises(kind, f):
    def call():
        try:
            f()
        except kind:
            return
        raise AssertionError("did not raise")
    return call


CASES = {
    "bce": lambda: cbce.bce(Y, X, from_logits=True, sample_weight=W, pos_weight=2.0),
    "bce-none": lambda: cbce.bce(Y, P, reduction="none"),
    "bce_grad-out": lambda: cbce.bce_grad(Y, X, from_logits=True, out=OUT),
    "bce_loss_and_grad": lambda: cbce.bce_loss_and_grad(Y, P, reduction="weighted_mean", sample_weight=W),
    "bce_grad_hess": lambda: cbce.bce_grad_hess(Y, X, grad_out=OUT, hess_out=OUT2),
    "parallel": lambda: cbce.bce_loss_and_grad(BIG_Y, BIG, from_logits=True, out=BIG_OUT, n_threads=2),
    "float32": lambda: cbce.bce_grad(Y.astype(np.float32), X.astype(np.float32), from_logits=True),
    "error-range": _raises(ValueError, lambda: cbce.bce(BAD_Y, X, from_logits=True)),
    "error-range-in-place": _raises(ValueError, lambda: cbce.bce_grad(BAD_Y, P.copy(), out=None)),
    "error-range-parallel": _raises(ValueError, lambda: cbce.bce(np.full(BIG.size, 2.0), BIG, from_logits=True)),
    "error-type": _raises(TypeError, lambda: cbce.bce(Y, X.astype(complex))),
    "error-shape": _raises(ValueError, lambda: cbce.bce(Y[:3], X)),
    "error-option": _raises(ValueError, lambda: cbce.bce(Y, X, reduction="avg")),
    "error-weights": _raises(ValueError, lambda: cbce.bce(Y, X, from_logits=True, sample_weight=W[:3])),
    "error-out": _raises(ValueError, lambda: cbce.bce_grad(Y, X, from_logits=True, out=np.empty(3))),
}


def _c_heap_bytes():
    """Bytes of glibc's heap in use (mallinfo2: uordblks + hblkhd), or None elsewhere."""
    try:
        libc = ctypes.CDLL(None)
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        return None

    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                   "usmblks", "fsmblks", "uordblks", "fordblks",
                                                   "keepcost")]
    fn.restype = Mallinfo2
    info = fn()
    return info.uordblks + info.hblkhd


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(calls=CALLS, cases=CASES):
    """{case: (tracemalloc growth, C heap growth, RSS growth) in bytes over `calls` calls}."""
    growth = {}
    for name, call in cases.items():
        for _ in range(200):
            call()
        gc.collect()
        heap0, rss0 = _c_heap_bytes(), _rss_bytes()
        for _ in range(calls):
            call()
        gc.collect()
        heap1, rss1 = _c_heap_bytes(), _rss_bytes()
        tracemalloc.start()
        for _ in range(100):
            call()
        gc.collect()
        traced0 = tracemalloc.get_traced_memory()[0]
        for _ in range(max(100, calls // 10)):
            call()
        gc.collect()
        traced1 = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        growth[name] = (traced1 - traced0, None if heap0 is None else heap1 - heap0, rss1 - rss0)
    return growth


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
@pytest.mark.parametrize("case", list(CASES))
def test_repeated_calls_hold_no_memory(case):
    """CALLS calls of one entry point (or error path) grow neither Python's allocations nor the
    C heap (beyond 8 KiB of allocator noise) nor the RSS (beyond 1 MiB)."""
    traced, heap, rss = measure(cases={case: CASES[case]})[case]
    record("leaks", case=case, calls=CALLS, traced=traced, heap=heap, rss=rss)
    assert traced <= 8192, f"tracemalloc grew by {traced} bytes"
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return        # AddressSanitizer's own malloc and quarantine: no meaningful heap or RSS
    assert heap is None or heap <= 8192, f"the C heap grew by {heap} bytes"
    assert rss <= 1 << 20, f"RSS grew by {rss} bytes"
