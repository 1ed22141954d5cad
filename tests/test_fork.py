"""Fork safety: children forked after the parent used its OpenMP pool call cbce without hanging
(docs/design.md, "Reliability").

GNU libgomp's thread pool does not survive fork(): a parallel region in the child would wait
forever for workers that do not exist. cbce/_dispatch.py registers an os.register_at_fork hook
that makes a forked child run the kernels serially. Each scenario runs in its own interpreter
under a timeout, so a hang fails the test instead of hanging the suite.
"""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import cbce

TIMEOUT = 120

PRELUDE = textwrap.dedent("""
    import os, sys
    import numpy as np
    import cbce

    N = 300_001                                   # ~147 blocks: parallel where allowed
    rng = np.random.default_rng(3)
    X = rng.normal(0, 4, N)
    Y = (rng.uniform(0, 1, N) < 0.3).astype(float)

    def work(n_threads):
        loss, grad = cbce.bce_loss_and_grad(Y, X, from_logits=True, n_threads=n_threads)
        g, h = cbce.bce_grad_hess(Y, X, n_threads=n_threads)
        return loss, grad.tobytes(), g.tobytes(), h.tobytes()

    def tasks():
        return len(os.listdir("/proc/self/task"))

    parent = work(2)                              # the parent's OpenMP pool now exists
    assert work(None) == parent
""")

POOL = PRELUDE + textwrap.dedent("""
    import multiprocessing as mp
    with mp.get_context("fork").Pool(2) as pool:
        results = pool.map(work, [None, 2, 1, None, 2, 1])
    assert all(r == parent for r in results), "a child's result differs from the parent's"
    # The parent's own pool still works after forking.
    assert work(2) == parent
    print("ok")
""")

RAW_FORK = PRELUDE + textwrap.dedent("""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        ok = work(2) == parent and work(None) == parent
        # A serial child starts no OpenMP worker: the forking thread is its only thread.
        single = tasks() == 1
        # A grandchild too.
        pid2 = os.fork()
        if pid2 == 0:
            os._exit(0 if work(2) == parent else 3)
        _, status = os.waitpid(pid2, 0)
        os.write(w, bytes([ok, single, os.waitstatus_to_exitcode(status) == 0]))
        os._exit(0)
    os.close(w)
    report = os.read(r, 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    assert report == bytes([1, 1, 1]), ("result, single thread, grandchild", list(report))
    print("ok")
""")

EXECUTOR = PRELUDE + textwrap.dedent("""
    import concurrent.futures as cf, multiprocessing as mp
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
        assert all(r == parent for r in ex.map(work, [2, None, 2]))
    print("ok")
""")


def _run(script, tmp_path):
    # Its own process group, so that a hung forked child is killed with it.
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,  # not the unbuilt cbce/
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"hung: no result within {TIMEOUT} s")
    assert proc.returncode == 0 and out.strip().endswith("ok"), out + err


pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_fork_pool_after_parallel_use(tmp_path):
    """A multiprocessing "fork" Pool, after the parent ran parallel kernels, finishes and its
    children's results are bitwise the parent's; the parent's pool still works afterwards."""
    _run(POOL, tmp_path)


def test_raw_fork_child_runs_serially(tmp_path):
    """os.fork(): the child (and its own child) finish with the parent's results, and the child
    starts no OpenMP worker thread (it runs serially)."""
    if not cbce.show_config(False)["openmp"]:
        pytest.skip("serial build: nothing to protect")
    _run(RAW_FORK, tmp_path)


def test_process_pool_executor_with_fork(tmp_path):
    """concurrent.futures with the fork context: finishes, same results."""
    _run(EXECUTOR, tmp_path)
