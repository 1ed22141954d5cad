"""threadpoolctl sees and governs cbce's OpenMP runtime.

Each check runs in a fresh interpreter: the test process has OpenMP loaded already (cbce, and
maybe torch), and an OpenMP thread team, once started, stays for the process's life.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import cbce

threadpoolctl = pytest.importorskip("threadpoolctl")
pytestmark = pytest.mark.skipif(not cbce.show_config(False)["openmp"],
                                reason="cbce was built without OpenMP")


def _run(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, cwd="/", check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_threadpool_info_lists_openmp_once_cbce_is_imported():
    """threadpool_info() has an OpenMP entry after `import cbce`, and none before."""
    res = _run("""
        import json, numpy
        from threadpoolctl import threadpool_info
        before = [p["user_api"] for p in threadpool_info()]
        import cbce
        after = [p for p in threadpool_info() if p["user_api"] == "openmp"]
        print(json.dumps({"before": before, "after": after,
                          "threads": cbce.show_config(False)["default_n_threads"]}))
    """)
    assert "openmp" not in res["before"]
    assert res["after"], "no OpenMP runtime listed after import cbce"
    assert res["threads"] in [p["num_threads"] for p in res["after"]]


def test_threadpool_limits_sets_the_default_thread_count():
    """Inside threadpool_limits(1) the kernels' default (omp_get_max_threads) is 1; restored after."""
    from cbce._dispatch import kernels

    before = kernels.max_threads()
    with threadpoolctl.threadpool_limits(1):
        assert kernels.max_threads() == 1
        assert cbce.show_config(False)["default_n_threads"] == 1
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert kernels.max_threads() == 1
    assert kernels.max_threads() == before


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_threadpool_limits_governs_n_threads_none():
    """n_threads=None under threadpool_limits(1) starts no OpenMP thread; without it, it does.

    Counted in /proc/self/task: an OpenMP team's threads appear at its first parallel region."""
    res = _run("""
        import json, os
        import numpy as np
        import cbce
        from threadpoolctl import threadpool_limits
        count = lambda: len(os.listdir("/proc/self/task"))
        x = np.linspace(-5, 5, 10**6); y = (x > 0).astype(float)
        start = count()
        with threadpool_limits(1):
            limited = cbce.bce(y, x, from_logits=True)
        after_limited = count()
        free = cbce.bce(y, x, from_logits=True)
        print(json.dumps({"start": start, "after_limited": after_limited, "after": count(),
                          "max_threads": cbce.show_config(False)["default_n_threads"],
                          "same": limited == free}))
    """)
    assert res["after_limited"] == res["start"], "threads started under threadpool_limits(1)"
    assert res["same"], "the result depends on the thread count"
    if res["max_threads"] > 1:
        assert res["after"] == res["start"] + res["max_threads"] - 1
