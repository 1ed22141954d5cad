#!/usr/bin/env python
"""Turn a pytest-benchmark JSON of the cbce suite into a results page (RESULTS.md) and PNG plots.

    python benchmarks/report.py RESULTS.json [--out-dir build/benchmark-report] [--stat min] [--note TEXT]

RESULTS.json: from ``pytest benchmarks --benchmark-json=RESULTS.json`` or a file that
``--benchmark-save`` wrote under .benchmarks/ (with no argument, the newest such file is used).
Writes RESULTS.md (machine, commit, speed targets, one table per operation / input kind / weights /
layout: rows = cases, columns = cbce and each peer, the speed-up over the fastest peer and the
fraction of the memory roofline), throughput_*.png (elements/s vs N, log-log, one line per
implementation) and speedup_N1e7.png. Needs only the standard library; matplotlib for the plots.
The docs build (docs/conf.py) calls ``build`` to render the performance page's figures; nothing
it writes is committed.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
# Outside the source tree's tracked files: benchmarks/ holds the suite, not its outputs.
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "build", "benchmark-report")

OPS = ("loss", "loss_grad", "grad_hess")
OP_TITLE = {"loss": "Loss only", "loss_grad": "Fused loss + gradient", "grad_hess": "Gradient + hessian"}
OP_CALL = {"loss": "cbce.bce", "loss_grad": "cbce.bce_loss_and_grad", "grad_hess": "cbce.bce_grad_hess"}
LAYOUT_TITLE = {"contig": "contiguous", "strided": "stride-2 views", "mask2d": "2-D mask"}
# Column order; anything else found in the JSON is appended.
IMPL_ORDER = ("cbce", "cbce_auto", "numpy", "sklearn", "sklearn_log_loss", "torch", "numba",
              "roofline_add", "roofline_dot")
STYLE = {  # one look per implementation in every plot
    "cbce": dict(color="black", lw=2.5, marker="o"),
    "cbce_auto": dict(color="black", ls=":", lw=1.5, marker="D", mfc="none", ms=9),
    "numpy": dict(color="tab:blue", marker="s"), "sklearn": dict(color="tab:orange", marker="^"),
    "sklearn_log_loss": dict(color="tab:brown", marker="v"), "torch": dict(color="tab:green", marker="P"),
    "numba": dict(color="tab:red", marker="X"), "roofline_add": dict(color="grey", ls="--", marker="_", ms=14),
    "roofline_dot": dict(color="grey", ls="-.", marker="_", ms=14),
}
TARGET1_PEERS = ("numpy", "sklearn", "torch")  # speed target 1 names these three
HEADLINE_N = 10**7


# --------------------------------------------------------------------------------------------------
# Loading

class Results:
    def __init__(self, doc: dict, stat: str):
        self.doc, self.stat = doc, stat
        self.cases: dict[str, dict] = {}
        self.footprint: dict[tuple, dict] = {}
        self.labels: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.loads: list[float] = []
        self.other: list[tuple] = []  # (other_load, case, impl): cores busy with other processes
        for b in doc.get("benchmarks", []):
            ei = b.get("extra_info") or {}
            impl = ei.get("impl")
            if impl is None:
                continue
            if "loadavg_1m" in ei:
                self.loads.append(ei["loadavg_1m"])
            if ei.get("op") in ("import", "memory"):
                self.footprint[ei["op"], impl] = {**ei, "time": b["stats"][stat]}
                continue
            if ei.get("op") not in OPS:
                continue
            self.labels.setdefault(impl, ei.get("label", impl))
            self.roles.setdefault(impl, ei.get("role", "peer"))
            if ei.get("other_load") is not None:
                self.other.append((ei["other_load"], ei["case"], impl))
            case = self.cases.setdefault(ei["case"], {"info": ei, "times": {}, "extra": {}})
            case["times"][impl] = b["stats"][stat]
            case["extra"][impl] = ei
        self.impls = [i for i in IMPL_ORDER if i in self.labels] + \
                     sorted(i for i in self.labels if i not in IMPL_ORDER)

    def find(self, **axes):
        """Cases whose info matches every given axis."""
        return [c for c in self.cases.values() if all(c["info"].get(k) == v for k, v in axes.items())]

    def one(self, **axes):
        found = self.find(**axes)
        return found[0] if found else None


def metrics(case: dict, roles: dict, peer_names=None) -> dict:
    t = case["times"]
    cb = t.get("cbce")
    peers = {k: v for k, v in t.items() if roles.get(k) == "peer" and (peer_names is None or k in peer_names)}
    roof = next((v for k, v in t.items() if roles.get(k) == "roofline"), None)
    fastest = min(peers, key=peers.get) if peers else None
    return {"cbce": cb, "fastest": fastest, "t_fastest": peers.get(fastest),
            "speedup": peers[fastest] / cb if cb and fastest else None,
            "roofline": roof / cb if cb and roof else None,
            "vs_roofline": cb / roof if cb and roof else None}


# --------------------------------------------------------------------------------------------------
# Formatting

def fmt_time(s):
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def fmt_x(r, digits=2):
    return "–" if r is None else f"{r:.{digits}g}×" if r < 10 else f"{r:.0f}×"


def fmt_n(n, shape=None):
    if shape and len(shape) == 2:
        return "×".join(map(str, shape))
    e = math.log10(n) if n > 0 else 0
    return f"10^{int(round(e))}" if n > 0 and 10 ** int(round(e)) == n else str(n)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def section_key(info):
    return (OPS.index(info["op"]), info["kind"], info["weights"], ["contig", "strided", "mask2d"].index(info["layout"]))


def section_title(info):
    w = "sample_weight + pos_weight" if info["weights"] == "weighted" else "no weights"
    return (f"{OP_TITLE[info['op']]} (`{OP_CALL[info['op']]}`) · {info['kind']} · {w} · "
            f"{LAYOUT_TITLE[info['layout']]}")


# --------------------------------------------------------------------------------------------------
# Sections

def machine_section(res: Results, json_path: str) -> str:
    mi = res.doc.get("machine_info", {})
    cb = {**(mi.get("cbce_bench") or {}), **(res.doc.get("cbce_bench_run") or {})}
    cpu = cb.get("cpu") or {}
    model = cpu.get("model") or (mi.get("cpu") or {}).get("brand_raw") or _lscpu_model()
    ident, late = cpu.get("ident"), ""
    if ident is None and cpu.get("model") and cpu["model"] == _lscpu_model().split(" (read")[0]:
        ident, late = _lscpu_ident(), ", read at report time on a CPU of the same model name"
    ident_text = "; " + ", ".join(f"{k.lower()} {v}" for k, v in ident.items()) + late if ident else ""
    simd = cpu.get("simd")
    avx512 = ("yes" if "avx512f" in simd else "**no**") if simd is not None else "unknown"
    versions = dict(cb.get("versions") or {})
    cfg = cb.get("cbce") or {}
    if cfg.get("version"):  # the imported module's own version (metadata may lag an in-place build)
        versions["cbce"] = cfg["version"]
    vers = ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "not recorded"
    missing = [k for k, v in versions.items() if v is None]
    lines = [
        "## Machine and run",
        "",
        f"- **CPU**: {model} (`lscpu` model name{ident_text}); SIMD: {', '.join(simd) if simd else 'unknown'}; "
        f"AVX-512: {avx512}",
        f"- **Cores available**: {cb.get('cores', '?')} (the 'all cores' thread count, `t{cb.get('cores', '?')}` "
        "in the case names)",
        f"- **Run**: {res.doc.get('datetime', '?')} (UTC), pytest-benchmark {res.doc.get('version', '?')}, "
        f"`pytest {' '.join((cb.get('options') or {}).get('argv', []))}`",
        f"- **Statistic**: `{res.stat}` of each benchmark's rounds (pytest-benchmark stats); the "
        "minimum is the least disturbed by other load on a shared machine",
        f"- **Versions**: {vers}" + (f"; not installed: {', '.join(missing)}" if missing else ""),
        f"- **Commit**: {commit_text(res.doc)}",
    ]
    if cfg.get("show_config"):
        noisy = ("cython_directives", "python", "link_args")  # "key : value" lines left out here
        kept = [s.strip() for s in cfg["show_config"].strip().splitlines()
                if s.strip() and s.split(":")[0].strip() not in noisy]
        lines.append(f"- **cbce.show_config()**: {re.sub(r' +: ', ': ', '; '.join(kept))}")
    elif cfg.get("error"):
        lines.append(f"- **cbce.show_config()**: unavailable ({cfg['error']})")
    if res.other:
        mean = sum(o for o, _, _ in res.other) / len(res.other)
        worst = max(res.other)
        lines.append(f"- **Other load**: while the benchmarks ran, other processes kept on average "
                     f"{mean:.2f} of the {cb.get('cores', '?')} cores busy (worst {worst[0]:.2f}, during "
                     f"{worst[2]} in {worst[1]}); measured from /proc/stat minus the benchmark's own CPU "
                     "time. Above ~0.1 the figures are noisier (column *other load* below)")
    if res.loads:
        ls, le = cb.get("loadavg_start") or [], cb.get("loadavg_end") or []
        lines.append(f"- **Load average (1 min)**, the benchmark's own threads included: "
                     f"{min(res.loads):.2f} – {max(res.loads):.2f}"
                     + (f" (before the run {ls[0]:.2f}, after {le[0]:.2f})" if ls and le else ""))
    env = cb.get("env") or {}
    lines.append("- **Environment**: " + (", ".join(f"`{k}={v}`" for k, v in env.items()) or
                                          "no OPENBLAS_/OMP_/MKL_/NUMBA_/CBCE_ variables set"))
    blas = [p for p in (cb.get("threadpools") or []) if p.get("user_api") == "blas"]
    if blas:
        lines.append("- **BLAS** (np.dot roofline): " + "; ".join(
            f"{p.get('internal_api')} {p.get('version')} kernel {p.get('architecture')}, "
            f"{p.get('num_threads')} threads" for p in blas))
    if any(k.startswith("OPENBLAS_") for k in env):
        lines.append("- **Note**: OPENBLAS_* variables were set: they choose OpenBLAS's kernels "
                     "(e.g. `OPENBLAS_CORETYPE`) and cache model, and can make `np.dot` slower than "
                     "this CPU allows. A slow `np.dot` makes the loss-only roofline fraction (target 4) "
                     "look better than it is; the `np.add` roofline does not use BLAS.")
    lines.append(f"- **Source**: `{os.path.relpath(json_path)}`, reported "
                 f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC by `benchmarks/report.py`")
    return "\n".join(lines)


def commit_text(doc: dict) -> str:
    """The commit the run measured (pytest-benchmark's commit_info), else HEAD at report time."""
    ci = doc.get("commit_info") or {}
    if ci.get("id"):
        dirty = " with uncommitted changes" if ci.get("dirty") else ""
        return f"`{ci['id'][:12]}`{dirty}" + (f" (branch {ci['branch']})" if ci.get("branch") else "")
    try:
        out = subprocess.run(["git", "-C", HERE, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return f"`{out[:12]}` (HEAD at report time: the JSON did not record it)" if out else "unknown"


def _lscpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            return m.group(1).strip() + " (read at report time: the JSON did not record it)"
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def _lscpu_ident():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {k: re.search(rf"^{k}:\s*(.+)$", out, re.M) for k in ("CPU family", "Model", "Stepping")}
    return {k: m.group(1).strip() for k, m in found.items() if m}


def _verdict(ok):
    return "–" if ok is None else ("met" if ok else "**not met**")


def targets_section(res: Results) -> str:
    cores = (res.doc.get("machine_info", {}).get("cbce_bench") or {}).get("cores")
    rows = []
    base = dict(kind="logits", n=HEADLINE_N, weights="unweighted", layout="contig")
    for dt in ("float64", "float32"):
        c = res.one(op="loss_grad", dtype=dt, threads=1, **base)
        if c:
            m = metrics(c, res.roles, TARGET1_PEERS)
            rows.append(["1", f"fused loss+grad, logits, {dt}, N=10^7, 1 thread", "≥ 6× fastest of NumPy, sklearn, PyTorch",
                         f"{fmt_x(m['speedup'])} (vs {res.labels.get(m['fastest'], '–')})",
                         _verdict(None if m["speedup"] is None else m["speedup"] >= 6)])
    for dt in ("float64", "float32"):
        c = res.one(op="loss_grad", dtype=dt, threads_all=True, **base)
        if c:
            m = metrics(c, res.roles)
            rows.append(["2", f"same, {dt}, {c['info']['threads']} threads", "time ≤ 1.5× `np.add(x, y, out=g)`",
                         f"{fmt_x(m['vs_roofline'], 3)} ({fmt_time(m['cbce'])} vs {fmt_time(c['times'].get('roofline_add'))})",
                         _verdict(None if m["vs_roofline"] is None else m["vs_roofline"] <= 1.5)])
    for kind, weights in (("probs", "unweighted"), ("logits", "weighted"), ("probs", "weighted")):
        for dt in ("float64", "float32"):
            c = res.one(op="loss_grad", kind=kind, dtype=dt, n=HEADLINE_N, threads=1, weights=weights, layout="contig")
            if c:
                m = metrics(c, res.roles)
                w = "sample_weight + pos_weight" if weights == "weighted" else "no weights"
                rows.append(["3", f"fused loss+grad, {kind}, {w}, {dt}, N=10^7, 1 thread", "≥ 4× fastest peer",
                             f"{fmt_x(m['speedup'])} (vs {res.labels.get(m['fastest'], '–')})",
                             _verdict(None if m["speedup"] is None else m["speedup"] >= 4)])
    for dt in ("float64", "float32"):
        c = res.one(op="loss", dtype=dt, threads_all=True, **base)
        if c:
            m = metrics(c, res.roles)
            rows.append(["4", f"loss only, logits, {dt}, N=10^7, {c['info']['threads']} threads", "time ≤ 2× `np.dot(x, y)`",
                         f"{fmt_x(m['vs_roofline'], 3)} ({fmt_time(m['cbce'])} vs {fmt_time(c['times'].get('roofline_dot'))})",
                         _verdict(None if m["vs_roofline"] is None else m["vs_roofline"] <= 2)])
    small = res.find(op="loss", kind="logits", dtype="float64", n=10, weights="unweighted", layout="contig")
    if small:
        t_cb = next((c["times"]["cbce_auto"] for c in small if "cbce_auto" in c["times"]), None)
        how = "`cbce.bce(y, x, from_logits=True)`"
        if t_cb is None:
            t_cb, how = min((c["times"]["cbce"] for c in small if "cbce" in c["times"]), default=None), "cbce, n_threads given"
        peers = {(k, c["info"]["threads"]): v for c in small for k, v in c["times"].items() if res.roles.get(k) == "peer"}
        best = min(peers, key=peers.get) if peers else None
        ratio = t_cb / peers[best] if t_cb and best else None
        rows.append(["5", f"loss, logits, float64, N=10, one call ({how})", "≤ 2 µs and ≤ 0.5× fastest peer",
                     f"{fmt_time(t_cb)}, {fmt_x(ratio, 2)} of {res.labels.get(best[0]) + f' ({best[1]} thr.)' if best else '–'} ({fmt_time(peers.get(best))})",
                     _verdict(None if ratio is None else (t_cb <= 2e-6 and ratio <= 0.5))])
    t6 = []
    for c in res.cases.values():
        i = c["info"]
        if "cbce_auto" in c["times"] and i["layout"] == "contig" and i["weights"] == "unweighted":
            one = res.one(op=i["op"], kind=i["kind"], dtype=i["dtype"], n=i["n"], threads=1,
                          weights="unweighted", layout="contig")
            if one and "cbce" in one["times"]:
                t6.append((i, c["times"]["cbce_auto"] / one["times"]["cbce"]))
    if t6:
        worst_i, worst = max(t6, key=lambda p: p[1])
        lo, hi = fmt_n(min(i["n"] for i, _ in t6)), fmt_n(max(i["n"] for i, _ in t6))
        rows.append(["6", f"n_threads=None vs 1 thread, {len(t6)} (op, dtype, N) point{'s' * (len(t6) > 1)}, "
                          f"N = {lo if lo == hi else lo + ' … ' + hi}",
                     "never slower (ratio ≤ 1, 5 % noise allowed)",
                     f"worst {worst:.2f} ({worst_i['op']}, {worst_i['dtype']}, N={fmt_n(worst_i['n'])})",
                     _verdict(worst <= 1.05)])
    imp = res.footprint.get(("import", "cbce"))
    if imp:
        added = imp.get("added_import_s_min")
        heavy = imp.get("heavy_modules") or []
        rows.append(["7", "`import cbce` after `import numpy`", "≤ 10 ms, no scipy/sklearn/torch",
                     f"{fmt_time(added)} (min of rounds); pulls in: {', '.join(heavy) or 'nothing heavy'}",
                     _verdict(added is not None and added <= 0.010 and not ({'scipy', 'sklearn', 'torch'} & set(heavy)))])
    mem = res.footprint.get(("memory", "cbce"))
    if mem and mem["n"] < 10**6:  # --bench-quick: the interpreter's own RSS jitter dominates
        rows.append(["8", f"peak RSS, N={fmt_n(mem['n'])}", "≤ 1.05 × (inputs + gradient)",
                     f"{mem['peak_over_needed']:.3f}× (N too small to judge)", "–"])
    elif mem:
        other = res.footprint.get(("memory", "numpy"))
        rows.append(["8", f"peak RSS of `bce_loss_and_grad`, float64, N={fmt_n(mem['n'])}",
                     "≤ 1.05 × (inputs + gradient)",
                     f"{mem['peak_over_needed']:.3f}×" + (f" (NumPy by hand: {other['peak_over_needed']:.2f}×)" if other else "")
                     + ("" if mem.get("reset") else " (peak not resettable here: upper bound)"),
                     _verdict(mem["peak_over_needed"] <= 1.05)])
    if not rows:
        return "## Speed targets\n\nNo target case in this run."
    note = ("Ratios from one run, same machine, same inputs. Target 1 compares with the three peers it "
            "names; target 3 with every peer in the group (Numba included). Multi-threaded rows use all "
            f"{cores or 'available'} cores. Targets whose cases were not in this run are not listed.")
    return "## Speed targets\n\n" + note + "\n\n" + table(
        ["#", "case", "target", "measured", "verdict"], rows)


def results_section(res: Results, plots: list) -> str:
    sections = defaultdict(list)
    for c in res.cases.values():
        sections[section_key(c["info"])].append(c)
    parts = ["## Results",
             "",
             f"Time per call (`{res.stat}`); lower is better. *speed-up* = fastest peer's time / cbce's "
             "time; *roofline* = time of the memory-pass baseline on the same arrays / cbce's time "
             "(`np.add(x, y, out=g)` where a gradient is written, `np.dot(x, y)` for the loss alone; "
             "1.0 = as fast as one pass over the data). NumPy's ufuncs are single-threaded at every "
             "thread count; cbce n_threads=None runs with the library's default thread count. *other load* = "
             "the most cores other processes kept busy while any implementation of that row was timed."]
    for key in sorted(sections):
        group = sorted(sections[key], key=lambda c: (c["info"]["dtype"] != "float64", c["info"]["n"], c["info"]["threads"]))
        impls = [i for i in res.impls if any(i in c["times"] for c in group)]
        noisy = any("other_load" in e for c in group for e in c["extra"].values())
        header = ["dtype", "N", "threads"] + [res.labels[i] for i in impls] + \
                 ["cbce Melem/s", "fastest peer", "speed-up", "roofline"] + (["other load"] if noisy else [])
        rows = []
        for c in group:
            i, m = c["info"], metrics(c, res.roles)
            cells = []
            for impl in impls:
                t = c["times"].get(impl)
                cells.append(f"**{fmt_time(t)}**" if impl == "cbce" and t else fmt_time(t))
            thr = f"{i['n'] / m['cbce'] / 1e6:.3g}" if m["cbce"] else "–"
            rows.append([i["dtype"], fmt_n(i["n"], i.get("shape")), i["threads"], *cells, thr,
                         res.labels.get(m["fastest"], "–"), fmt_x(m["speedup"]),
                         "–" if m["roofline"] is None else f"{m['roofline']:.2f}"]
                        + ([f"{max(e.get('other_load', 0) for e in c['extra'].values()):.2f}"] if noisy else []))
        parts += ["", f"### {section_title(group[0]['info'])}", "", table(header, rows)]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{os.path.splitext(p)[0]}]({p})" for p in plots]
    return "\n".join(parts)


def footprint_section(res: Results) -> str:
    rows = []
    for (op, impl), ei in sorted(res.footprint.items()):
        if op == "import":
            rows.append([op, ei.get("label", impl), f"{fmt_time(ei['time'])} per interpreter start; "
                         f"added by the import after numpy: {fmt_time(ei.get('added_import_s_min'))} (min), "
                         f"{fmt_time(ei.get('added_import_s_median'))} (median)"])
        else:
            rows.append([op, ei.get("label", impl),
                         f"peak {ei['peak'] / 2**20:.0f} MiB, {ei['peak_over_needed']:.3f}× the "
                         f"{ei['needed_bytes'] / 2**20:.0f} MiB of inputs + gradient (N={fmt_n(ei['n'])})"])
    if not rows:
        return ""
    return "## Import and memory\n\n" + table(["measure", "what", "result"], rows)


# --------------------------------------------------------------------------------------------------
# Plots

def make_plots(res: Results, out_dir: str) -> list:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib not installed: RESULTS.md written without plots", file=sys.stderr)
        return []
    written = []
    families = defaultdict(list)
    for c in res.cases.values():
        i = c["info"]
        families[i["op"], i["kind"], i["weights"], i["layout"]].append(c)
    headline = ("loss_grad", "logits", "unweighted", "contig")
    for fam, group in sorted(families.items(), key=lambda kv: (kv[0] != headline, kv[0])):
        if fam[3] == "mask2d" or (fam != headline and len({c["info"]["n"] for c in group}) < 2):
            continue
        dtypes = sorted({c["info"]["dtype"] for c in group}, key=lambda d: d != "float64")
        threads = sorted({c["info"]["threads"] for c in group})
        fig, axes = plt.subplots(len(dtypes), len(threads), figsize=(5.2 * len(threads), 3.9 * len(dtypes)),
                                 squeeze=False, sharex=True, sharey=True)
        for r, dt in enumerate(dtypes):
            for col, th in enumerate(threads):
                ax = axes[r][col]
                cs = sorted((c for c in group if c["info"]["dtype"] == dt and c["info"]["threads"] == th),
                            key=lambda c: c["info"]["n"])
                for impl in res.impls:
                    pts = [(c["info"]["n"], c["info"]["n"] / c["times"][impl]) for c in cs if impl in c["times"]]
                    if pts:
                        ax.plot(*zip(*pts), label=res.labels[impl], **{"marker": "o", **STYLE.get(impl, {})})
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_title(f"{dt}, {th} thread{'s' if th > 1 else ''}", fontsize=10)
                ax.grid(True, which="both", alpha=0.3)
                if col == 0:
                    ax.set_ylabel("elements / s")
                if r == len(dtypes) - 1:
                    ax.set_xlabel("N")
        handles, labels = axes[0][0].get_legend_handles_labels()
        for a in axes.flat:
            for h, lab in zip(*a.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
        w = "" if fam[2] == "unweighted" else "_weighted"
        lay = "" if fam[3] == "contig" else f"_{fam[3]}"
        fig.suptitle(f"{OP_TITLE[fam[0]]} from {fam[1]}{' with weights' if w else ''}"
                     f"{', ' + LAYOUT_TITLE[fam[3]] if lay else ''}: throughput", fontsize=11)
        fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) > 4), 1, 0.95))
        name = f"throughput_{fam[0]}_{fam[1]}{w}{lay}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        plt.close(fig)
        written.append(name)

    at = [c for c in res.cases.values() if c["info"]["n"] == HEADLINE_N]
    if not at and res.cases:
        top = max(c["info"]["n"] for c in res.cases.values())
        at = [c for c in res.cases.values() if c["info"]["n"] == top]
    at = [c for c in at if metrics(c, res.roles)["speedup"] is not None]
    if at:
        at.sort(key=lambda c: (*section_key(c["info"]), c["info"]["dtype"] != "float64", c["info"]["threads"]), reverse=True)
        ms = [metrics(c, res.roles) for c in at]
        labels = [f"{OP_TITLE[c['info']['op']].lower()}, {c['info']['kind']}, {c['info']['dtype']}, "
                  f"t{c['info']['threads']}" + (", weighted" if c["info"]["weights"] == "weighted" else "")
                  + ("" if c["info"]["layout"] == "contig" else f", {c['info']['layout']}") for c in at]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 0.34 * len(at) + 1.6), sharey=True,
                                     gridspec_kw={"width_ratios": (3, 2)})
        ypos = range(len(at))
        colors = ["tab:blue" if c["info"]["threads"] == 1 else "tab:orange" for c in at]
        a1.barh(ypos, [m["speedup"] for m in ms], color=colors)
        for y, m in zip(ypos, ms):
            a1.text(m["speedup"], y, f" {m['speedup']:.1f}× vs {res.labels[m['fastest']]}", va="center", fontsize=7)
        a1.axvline(1, color="black", lw=0.8)
        a1.set_xscale("log")
        lo, hi = min(m["speedup"] for m in ms), max(m["speedup"] for m in ms)
        a1.set_xlim(min(lo, 1) / 1.5, max(hi, 1) * 10)
        a1.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
        a1.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        a1.set_yticks(list(ypos), labels, fontsize=8)
        a1.set_xlabel("speed-up over the fastest peer (blue: 1 thread, orange: all cores)", fontsize=9)
        a2.barh(ypos, [m["roofline"] or 0 for m in ms], color=colors)
        a2.axvline(1, color="black", lw=0.8)
        a2.set_xlabel("roofline fraction (np.add or np.dot time / cbce time)", fontsize=9)
        fig.suptitle(f"cbce at N = {fmt_n(at[0]['info']['n'])}", fontsize=11)
        fig.tight_layout()
        name = f"speedup_N{'1e7' if at[0]['info']['n'] == HEADLINE_N else at[0]['info']['n']}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        plt.close(fig)
        written.append(name)
    return written


# --------------------------------------------------------------------------------------------------

def newest_saved_json():
    found = glob.glob(os.path.join(".benchmarks", "**", "*.json"), recursive=True)
    return max(found, key=os.path.getmtime) if found else None


def build(json_path, out_dir=DEFAULT_OUT, stat="min", plots=True, note=None):
    with open(json_path) as f:
        doc = json.load(f)
    res = Results(doc, stat)
    if not res.cases and not res.footprint:
        raise SystemExit(f"{json_path}: no cbce benchmark results (was it run with --benchmark-disable?)")
    os.makedirs(out_dir, exist_ok=True)
    written = make_plots(res, out_dir) if plots else []
    parts = ["# cbce benchmark results", "",
             "Generated by `python benchmarks/report.py` from a pytest-benchmark run of `benchmarks/` "
             "(docs/benchmarks.md says what each case and peer is)."]
    if note:
        parts += ["", f"> {note}"]
    parts += ["", machine_section(res, json_path), "", targets_section(res), "", results_section(res, written)]
    fp = footprint_section(res)
    if fp:
        parts += ["", fp]
    md = os.path.join(out_dir, "RESULTS.md")
    with open(md, "w") as f:
        f.write("\n".join(parts) + "\n")
    return md, written, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="?", help="pytest-benchmark JSON (default: newest under .benchmarks/)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT,
                    help="where RESULTS.md and the PNGs go (default: build/benchmark-report)")
    ap.add_argument("--stat", default="min", choices=("min", "median", "mean"),
                    help="statistic of each benchmark's rounds (default: min)")
    ap.add_argument("--no-plots", action="store_true", help="write RESULTS.md only")
    ap.add_argument("--note", help="a line quoted at the top of RESULTS.md (e.g. the load conditions)")
    args = ap.parse_args(argv)
    path = args.json or newest_saved_json()
    if not path:
        ap.error("no JSON given and none found under .benchmarks/ (run pytest with --benchmark-json=FILE)")
    md, written, res = build(path, args.out_dir, args.stat, not args.no_plots, args.note)
    print(f"wrote {md}" + "".join(f"\nwrote {os.path.join(args.out_dir, p)}" for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
