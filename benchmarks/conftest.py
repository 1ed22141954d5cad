"""pytest-benchmark harness for cbce: the case matrix, untimed inputs, peer availability, checks.

Run from the repository root as ``pytest benchmarks`` (NOT ``python -m pytest``: that puts the
un-built source folder cbce/ first on sys.path). Options (docs/benchmarks.md, "Running"):

  --bench-set=standard|headline|full   which matrix (cases.py)           default: standard
  --bench-quick                        cap N at 1000 (CI; with --benchmark-disable), or CBCE_BENCH_QUICK=1
  --bench-huge                         add N = 10^8 to the sweep (up to ~8 GB of RAM for float64)
  --bench-n=10,1e4,3e4                 replace the N sweep (e.g. to find cbce's serial threshold)
  --bench-impl=cbce,numpy              run only these implementations (names in peers.IMPLS)
  --bench-no-check                     skip the untimed cross-check against the float64 reference
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import cases
import peers

# Variables that change what the machine does (BLAS kernels/threads, OpenMP, cbce's own switches).
ENV_OF_INTEREST = re.compile(r"^(OPENBLAS_|OMP_|GOMP_|KMP_|MKL_|NUMBA_|CBCE_|BLIS_)")
VERSIONED = ("cbce", "numpy", "scikit-learn", "scipy", "torch", "numba", "threadpoolctl",
             "pytest", "pytest-benchmark", "matplotlib")


def pytest_addoption(parser):
    g = parser.getgroup("cbce benchmarks")
    g.addoption("--bench-set", default="standard", choices=("headline", "standard", "full"),
                help="case matrix: headline (speed targets 1-2), standard (default, ~9-10 min "
                     "on 2 cores), full (every axis combination, ~1 h)")
    g.addoption("--bench-quick", action="store_true",
                default=os.environ.get("CBCE_BENCH_QUICK", "") not in ("", "0"),
                help="cap every N at 1000 (mask 32x32): with --benchmark-disable each case runs "
                     "once, for CI. Also enabled by CBCE_BENCH_QUICK=1")
    g.addoption("--bench-huge", action="store_true", help="add N = 10^8 to the N sweep")
    g.addoption("--bench-n", default=None,
                help="comma-separated N sweep replacing 10,1e3,1e5,1e7 (e.g. 1e4,3e4,1e5,3e5)")
    g.addoption("--bench-impl", default=None,
                help="comma-separated implementations to run, from: "
                     + ", ".join(i.name for i in peers.IMPLS))
    g.addoption("--bench-no-check", action="store_true",
                help="do not cross-check results against the float64 reference before timing")


def _parse_n(text):
    if not text:
        return None
    try:
        return tuple(int(float(tok)) for tok in text.split(",") if tok.strip())
    except ValueError:
        raise pytest.UsageError(f"--bench-n expects comma-separated sizes like 10,1e4,3e5; got {text!r}")


def _selected_impls(config):
    wanted = config.getoption("--bench-impl")
    if not wanted:
        return peers.IMPLS
    names = [t.strip() for t in wanted.split(",") if t.strip()]
    unknown = [t for t in names if t not in peers.IMPL_BY_NAME]
    if unknown:
        raise pytest.UsageError(f"--bench-impl: unknown {unknown}; valid: {list(peers.IMPL_BY_NAME)}")
    return tuple(i for i in peers.IMPLS if i.name in names)


def pytest_generate_tests(metafunc):
    """Parametrize each benchmark module (``OP = ...``) over its cases x the implementations."""
    if not {"case", "impl"} <= set(metafunc.fixturenames):
        return
    cfg = metafunc.config
    selected = cases.select_cases(cfg.getoption("--bench-set"), _parse_n(cfg.getoption("--bench-n")),
                                  cfg.getoption("--bench-huge"), cfg.getoption("--bench-quick"),
                                  ops={metafunc.module.OP})
    pairs = [(c, i) for c in selected for i in _selected_impls(cfg) if i.supports(c)]
    if not pairs:  # e.g. --bench-set=headline has no grad_hess case: one clear skip, not NOTSET
        why = f"no {metafunc.module.OP} case in this selection (--bench-set/--bench-impl)"
        pairs = [pytest.param(None, None, marks=pytest.mark.skip(reason=why), id="none")]
        metafunc.parametrize(("case", "impl"), pairs)
        return
    metafunc.parametrize(("case", "impl"), pairs, ids=[f"{c.id}-{i.name}" for c, i in pairs])


def pytest_collection_modifyitems(config, items):
    """Run every op on one set of inputs before building the next (inputs take ~1 s at N = 10^7):
    cases in cases.select_cases order, across the three benchmark modules. Others run first."""
    order = {}

    def key(item):
        spec = getattr(item, "callspec", None)
        case = spec.params.get("case") if spec else None
        if not isinstance(case, cases.Case):
            return (0, 0, 0, 0, 0)
        rank = order.setdefault(case.data_key, len(order))
        return (1, case.layout != "contig", case.n, rank, cases.OPS.index(case.op))

    for item in items:  # ranks in collection order, so select_cases' order decides among equals
        key(item)
    items.sort(key=key)  # stable: impls keep their order within a case


# --------------------------------------------------------------------------------------------------
# Inputs: built once per data key, kept while consecutive cases share them (one set in memory).

class _Inputs:
    def __init__(self):
        self.key, self.data, self.refs = None, None, {}

    def get(self, case):
        if case.data_key != self.key:
            self.key, self.data, self.refs = None, None, {}  # free the previous set first
            self.data, self.key = cases.make_data(case), case.data_key
        return self.data

    def reference(self, case, sample):
        if case.op not in self.refs:
            self.refs[case.op] = peers.reference(case, self.get(case), sample)
        return self.refs[case.op]


_INPUTS = _Inputs()


def _sampler(n):
    k = max(1, n // 50_000)  # the check compares grad/hess on <= ~50k elements: cheap at any N
    return lambda a: np.asarray(a).reshape(-1)[::k]


def _check(case, impl, got, ref):
    """Fail before timing when an implementation computes something else than cbce is asked to."""
    rtol = 1e-4 if case.dtype == "float32" else 1e-9
    for name, want in ref.items():
        if name not in got:
            continue
        have = got[name]
        if name == "loss":
            ok = abs(have - want) <= rtol * abs(want)
            detail = f"{have!r} vs {want!r}"
        else:
            have = np.asarray(have, dtype=np.float64)
            # Absolute floor 1e-3 * rtol * max|want|: sigma(x) - 1 rounds to 0 in float32 at x > 17.
            bound = rtol * (np.abs(want) + 1e-3 * np.abs(want).max(initial=0.0))
            err = np.abs(have - want)
            ok = have.shape == want.shape and bool(np.all(err <= bound))
            detail = (f"shape {have.shape} vs {want.shape}" if have.shape != want.shape else
                      f"worst element {int(np.argmax(err / np.maximum(bound, 1e-300)))}: "
                      f"max |error| {err.max():.3g}")
        if not ok:
            pytest.fail(f"{impl.name} disagrees with the float64 reference on {case.id}: "
                        f"{name} {detail} (rtol {rtol:g})", pytrace=False)


def _busy_cpu_s():
    """CPU seconds spent busy by every process on the machine (Linux /proc/stat), else None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system [idle iowait] irq softirq steal
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def bench_case(request, benchmark, case, impl):
    """The prepared, checked call of ``impl`` on ``case``; sets the benchmark's group and extra_info.

    After the timing, extra_info["other_load"] = cores kept busy by OTHER processes meanwhile
    (machine-wide busy CPU time minus this process's own, over the wall time): the noise indicator
    report.py prints next to each case."""
    reason = peers.missing_requirement(impl)
    if reason:
        pytest.skip(reason)
    data = _INPUTS.get(case)
    with impl.prepare(case, data) as prep:
        result = prep.fn()  # untimed warm-up: JIT compile, lazy imports, first touch of outputs
        if prep.canon is not None and not request.config.getoption("--bench-no-check"):
            sample = _sampler(data.n)
            _check(case, impl, prep.canon(result, sample), _INPUTS.reference(case, sample))
        del result
        benchmark.group = case.id
        benchmark.extra_info.update({**case.info(), "impl": impl.name, "label": impl.label,
                                     "role": impl.role, "loadavg_1m": os.getloadavg()[0], **prep.info})
        wall0, busy0, own0 = time.perf_counter(), _busy_cpu_s(), sum(os.times()[:2])
        yield prep
        wall, busy, own = time.perf_counter() - wall0, _busy_cpu_s(), sum(os.times()[:2]) - own0
        if busy is not None and busy0 is not None and wall > 0:
            benchmark.extra_info["other_load"] = round(max(0.0, (busy - busy0 - own) / wall), 3)
        if impl.name == "numba":
            import numba
            benchmark.extra_info["numba_threading_layer"] = numba.threading_layer()


# --------------------------------------------------------------------------------------------------
# Machine description saved in the JSON (report.py prints it)

def _cpu():
    model, flags, ident = None, "", {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        model = m and m.group(1).strip()
        m = re.search(r"^Flags:\s*(.+)$", out, re.M)
        flags = m.group(1) if m else ""
        ident = {k: re.search(rf"^{k}:\s*(.+)$", out, re.M) for k in ("CPU family", "Model", "Stepping")}
        ident = {k: m.group(1).strip() for k, m in ident.items() if m}
    except (OSError, subprocess.SubprocessError):
        pass
    if not model or not flags:
        try:
            with open("/proc/cpuinfo") as f:
                text = f.read()
            m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
            model = model or (m and m.group(1).strip())
            m = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
            flags = flags or (m.group(1) if m else "")
        except OSError:
            pass
    flagset = set(flags.split())
    return {"model": model or platform.processor() or "unknown", "ident": ident,
            "simd": [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl")
                     if f in flagset]}


def _versions():
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _cbce_config():
    try:
        cbce = peers._import_cbce()
    except ImportError as exc:
        return {"error": str(exc)}
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            ret = cbce.show_config()
    except Exception as exc:  # the benchmark JSON must be written anyway
        return {"file": getattr(cbce, "__file__", None), "error": repr(exc)}
    return {"file": getattr(cbce, "__file__", None), "version": getattr(cbce, "__version__", None),
            "show_config": buf.getvalue(),
            "returned": None if ret is None else repr(ret)}


def _threadpools():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "version", "num_threads",
                                   "architecture", "threading_layer")} for p in threadpool_info()]


def pytest_configure(config):
    _selected_impls(config)  # bad --bench-impl / --bench-n: a usage error now, not at collection
    _parse_n(config.getoption("--bench-n"))
    # Before any peer is imported: some set variables of their own (torch: KMP_*).
    config._cbce_bench_start = {"load": os.getloadavg(), "env": {
        k: v for k, v in sorted(os.environ.items()) if ENV_OF_INTEREST.match(k)}}


def pytest_benchmark_update_machine_info(config, machine_info):
    # Only what stays the same between runs on one machine: pytest-benchmark's --benchmark-compare
    # warns when machine_info differs. Per-run facts go to the JSON's "cbce_bench_run" below.
    machine_info["cbce_bench"] = {
        "cpu": _cpu(),
        "cores": cases.n_cores(),
        "versions": _versions(),
        "env": config._cbce_bench_start["env"],
    }


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # Every round's raw timing ("data") is dropped: microsecond cases run millions of rounds
    # (a 200 MB file); the stats that report.py and --benchmark-compare read stay.
    for bench in output_json.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)
    output_json["cbce_bench_run"] = {
        "cbce": _cbce_config(),
        "threadpools": _threadpools(),
        "loadavg_start": list(config._cbce_bench_start["load"]),
        "loadavg_end": list(os.getloadavg()),
        "options": {"set": config.getoption("--bench-set"), "quick": config.getoption("--bench-quick"),
                    "huge": config.getoption("--bench-huge"), "n": config.getoption("--bench-n"),
                    "impl": config.getoption("--bench-impl"), "argv": sys.argv[1:]},
    }
