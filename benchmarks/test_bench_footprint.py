"""Import cost and peak memory (speed targets 7 and 8, docs/performance.md), each in a fresh interpreter.

The timed quantity is the whole subprocess (pytest-benchmark needs one); the figures that matter are
measured inside it and saved in extra_info, where report.py reads them:
- import: seconds that ``import cbce`` adds after ``import numpy``, and the heavy modules it pulls in;
- memory: peak RSS of one ``bce_loss_and_grad`` call (fresh gradient output) at N = 10^7 float64,
  over the interpreter's RSS before the inputs were made, in units of inputs + gradient bytes.
Subprocesses run in a temporary directory so that a source folder cbce/ in the cwd is never imported.
"""

import json
import os
import subprocess
import sys
import tempfile

import pytest

import cases

HERE = os.path.dirname(os.path.abspath(__file__))
HEAVY = ("scipy", "sklearn", "torch", "numba", "pandas", "matplotlib", "threadpoolctl")

IMPORT_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
{stmt}
t2 = time.perf_counter()
print(json.dumps({{"numpy_s": t1 - t0, "added_s": t2 - t1,
                  "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""

MEMORY_SCRIPT = """
import json, sys
sys.path.insert(0, {here!r})
import numpy as np
{imports}

def vm(field):  # bytes, from /proc/self/status (Linux)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

n = {n}
base = vm("VmRSS")
y = np.zeros(n); y[::4] = 1.0                              # resident, no temporaries
x = np.arange(n, dtype=np.float64); x *= 12.0 / n; x -= 6.0  # logits in [-6, 6), in place
held = vm("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                       # reset the peak (VmHWM) to the current RSS
    reset = True
except OSError:
    reset = False
result = {call}
peak = vm("VmHWM")
print(json.dumps({{"base": base, "held": held, "peak": peak, "reset": reset}}))
"""

MEMORY_CALLS = {
    "cbce": ("import cbce", "cbce.bce_loss_and_grad(y, x, from_logits=True)"),
    "numpy": ("import peers", "peers.np_loss_grad_logits(y, x)"),
}


def _run(script):
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                             text=True, check=False)
    if out.returncode:
        pytest.fail(f"subprocess failed ({out.returncode}):\n{out.stderr[-2000:]}", pytrace=False)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("impl", ["numpy", "cbce"])
def test_import(benchmark, impl, request):
    """``python -c 'import numpy[, cbce]'``: what importing cbce adds to importing NumPy."""
    script = IMPORT_SCRIPT.format(stmt="import cbce" if impl == "cbce" else "", heavy=HEAVY)
    runs = []
    rounds = 1 if request.config.getoption("--bench-quick") else 15
    benchmark.pedantic(lambda: runs.append(_run(script)), rounds=rounds, iterations=1, warmup_rounds=1)
    added = sorted(r["added_s"] for r in runs)
    benchmark.group = "import"
    benchmark.extra_info.update({
        "case": "import", "op": "import", "impl": impl, "role": "cbce" if impl == "cbce" else "peer",
        "label": "python + numpy + cbce" if impl == "cbce" else "python + numpy",
        "added_import_s_min": added[0], "added_import_s_median": added[len(added) // 2],
        "numpy_import_s_min": min(r["numpy_s"] for r in runs), "heavy_modules": runs[-1]["heavy"],
        "loadavg_1m": os.getloadavg()[0]})


@pytest.mark.parametrize("impl", list(MEMORY_CALLS))
def test_peak_memory(benchmark, impl, request):
    """Peak RSS of one fused loss+grad call on float64 logits, fresh gradient output."""
    if not sys.platform.startswith("linux"):
        pytest.skip("peak RSS is read from /proc/self/status (Linux only)")
    n = cases.QUICK_MAX_N * 100 if request.config.getoption("--bench-quick") else cases.HEADLINE_N
    imports, call = MEMORY_CALLS[impl]
    script = MEMORY_SCRIPT.format(here=HERE, imports=imports, call=call, n=n)
    runs = []
    benchmark.pedantic(lambda: runs.append(_run(script)), rounds=1, iterations=1)
    r = runs[-1]
    need = 3 * 8 * n  # y, x and the gradient, float64
    benchmark.group = "memory"
    benchmark.extra_info.update({
        "case": "memory", "op": "memory", "impl": impl, "role": "cbce" if impl == "cbce" else "peer",
        "label": impl, "n": n, "dtype": "float64", **r, "needed_bytes": need,
        "peak_over_needed": (r["peak"] - r["base"]) / need,
        "loadavg_1m": os.getloadavg()[0]})
