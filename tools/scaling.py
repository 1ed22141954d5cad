"""OpenMP scaling and the serial threshold of cbce's fused kernel (speed targets 2 and 6, docs/performance.md).

    python tools/scaling.py [--max-threads T] [--json OUT.json]

Prints markdown tables: (1) time of bce_loss_and_grad (logits) at N = 10^7 and 10^8 for 1, 2,
4, ... threads against np.add(x, y, out=g) on the same arrays (the memory roofline of a pass
that reads two arrays and writes one); (2) n_threads=None against n_threads=1 from N = 10^3 to
10^6, which shows where the serial threshold (cbce.show_config()["parallel_threshold"]) lies.
Minimum of repeated runs; run it on an otherwise idle machine.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

import cbce


def best(fn, repeat):
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def scaling(max_threads, sizes, repeat):
    rows = []
    rng = np.random.default_rng(0)
    threads = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= max_threads]
    for n in sizes:
        for dtype in (np.float64, np.float32):
            x = rng.normal(0.0, 3.0, n).astype(dtype)
            y = (rng.random(n) < 0.3).astype(dtype)
            g = np.empty_like(x)
            t_add = best(lambda: np.add(x, y, out=g), repeat)
            for t in threads:
                tc = best(lambda: cbce.bce_loss_and_grad(y, x, from_logits=True, n_threads=t,
                                                         out=g), repeat)
                tl = best(lambda: cbce.bce(y, x, from_logits=True, n_threads=t), repeat)
                rows.append(dict(n=n, dtype=np.dtype(dtype).name, threads=t, fused_s=tc,
                                 loss_s=tl, add_s=t_add, fused_over_add=tc / t_add,
                                 melem_s=n / tc / 1e6))
            del x, y, g
    return rows


def threshold(repeat):
    rows = []
    rng = np.random.default_rng(1)
    for n in (1_000, 3_000, 10_000, 20_000, 32_768, 50_000, 100_000, 300_000, 1_000_000):
        x = rng.normal(0.0, 3.0, n)
        y = (rng.random(n) < 0.3).astype(np.float64)
        g = np.empty_like(x)
        reps = max(repeat, int(2e6 // n))
        t1 = best(lambda: cbce.bce_loss_and_grad(y, x, from_logits=True, n_threads=1, out=g), reps)
        tn = best(lambda: cbce.bce_loss_and_grad(y, x, from_logits=True, out=g), reps)
        rows.append(dict(n=n, one_thread_s=t1, default_s=tn, default_over_one=tn / t1))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-threads", type=int, default=os.cpu_count())
    ap.add_argument("--sizes", default="10000000,100000000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    cfg = cbce.show_config(print_=False)
    print(f"# cbce scaling: {cpu_model()}, {os.cpu_count()} CPUs, kernel variant "
          f"{cfg['kernel_variant']}, OpenMP default {cfg['default_n_threads']} threads, "
          f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}\n")
    sc = scaling(args.max_threads, [int(s) for s in args.sizes.split(",")], args.repeat)
    print("| N | dtype | threads | fused loss+grad | Melem/s | np.add | fused / np.add | loss only |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sc:
        print(f"| {r['n']:.0e} | {r['dtype']} | {r['threads']} | {r['fused_s'] * 1e3:.2f} ms | "
              f"{r['melem_s']:.0f} | {r['add_s'] * 1e3:.2f} ms | {r['fused_over_add']:.2f} | "
              f"{r['loss_s'] * 1e3:.2f} ms |")
    th = threshold(args.repeat)
    print("\n| N | n_threads=1 | n_threads=None | None / 1 |")
    print("|---|---|---|---|")
    for r in th:
        print(f"| {r['n']} | {r['one_thread_s'] * 1e6:.1f} us | {r['default_s'] * 1e6:.1f} us | "
              f"{r['default_over_one']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(cpu=cpu_model(), config=cfg, scaling=sc, threshold=th), f, indent=1)


if __name__ == "__main__":
    main()
