"""Headline timings of the speed targets (docs/performance.md) in one short run, for an idle machine (e.g. the
16-core device): cbce vs NumPy by hand, scikit-learn's HalfBinomialLoss and PyTorch, with the
np.add / np.dot roofline baselines, at N = 10^7, float64 and float32, 1 and 2 threads.

    python tools/peers_idle.py [--repeat R]
"""
import argparse
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=10**7)
    args = ap.parse_args()
    n, rep = args.n, args.repeat
    try:
        import torch
    except ImportError:
        torch = None
    try:
        from sklearn._loss.loss import HalfBinomialLoss
    except ImportError:
        HalfBinomialLoss = None
    cfg = cbce.show_config(print_=False)
    print(f"# N={n}, kernel {cfg['kernel_variant']}, cpus {os.cpu_count()}, "
          f"{time.strftime('%Y-%m-%d')}")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.normal(0.0, 3.0, n).astype(dtype)
        y = (rng.random(n) < 0.3).astype(dtype)
        p = (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(dtype)
        w = rng.random(n).astype(dtype)
        g = np.empty_like(x)
        rows = {}
        rows["np.add"] = best(lambda: np.add(x, y, out=g), rep)
        rows["np.dot"] = best(lambda: np.dot(x, y), rep)
        for t in (1, 2):
            rows[f"cbce fused {t}t"] = best(
                lambda: cbce.bce_loss_and_grad(y, x, from_logits=True, n_threads=t, out=g), rep)
            rows[f"cbce loss {t}t"] = best(lambda: cbce.bce(y, x, from_logits=True, n_threads=t),
                                           rep)
            rows[f"cbce probs+w+pw fused {t}t"] = best(
                lambda: cbce.bce_loss_and_grad(y, p, sample_weight=w, pos_weight=2.0,
                                               n_threads=t, out=g), rep)
            rows[f"cbce grad_hess {t}t"] = best(
                lambda: cbce.bce_grad_hess(y, x, n_threads=t), rep)

        def numpy_fused():
            loss = np.mean(np.logaddexp(0.0, x) - y * x)
            grad = (1.0 / (1.0 + np.exp(-x)) - y) / x.size
            return loss, grad

        def numpy_probs():
            pc = np.clip(p, 1e-7, 1 - 1e-7)
            lw = -w * (2.0 * y * np.log(pc) + (1 - y) * np.log1p(-pc))
            grad = w * ((1 - y) * pc - 2.0 * y * (1 - pc)) / (pc * (1 - pc)) / x.size
            return lw.mean(), grad

        rows["numpy fused"] = best(numpy_fused, rep)
        rows["numpy probs+w+pw"] = best(numpy_probs, rep)
        if HalfBinomialLoss is not None:
            hb = HalfBinomialLoss()
            yl = y.astype(x.dtype)
            lo, go = np.empty_like(x), np.empty_like(x)
            for t in (1, 2):
                rows[f"sklearn loss_gradient {t}t"] = best(
                    lambda: hb.loss_gradient(yl, x, loss_out=lo, gradient_out=go, n_threads=t),
                    rep)
        if torch is not None:
            tx, ty, tp = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(p)
            tw = torch.from_numpy(w)
            for t in (1, 2):
                torch.set_num_threads(t)

                def torch_fused():
                    xr = tx.clone().requires_grad_(True)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(xr, ty)
                    loss.backward()
                    return loss

                def torch_probs():
                    pr = tp.clone().requires_grad_(True)
                    loss = torch.nn.functional.binary_cross_entropy(pr, ty, weight=tw * (1 + ty))
                    loss.backward()
                    return loss

                rows[f"torch fused {t}t"] = best(torch_fused, rep)
                rows[f"torch probs+w+pw {t}t"] = best(torch_probs, rep)
        print(f"\n## {np.dtype(dtype).name}")
        for k, v in rows.items():
            print(f"{k:32s} {v * 1e3:9.2f} ms")
        peers1 = [rows[k] for k in ("numpy fused", "sklearn loss_gradient 1t", "torch fused 1t")
                  if k in rows]
        peersp = [rows[k] for k in ("numpy probs+w+pw", "torch probs+w+pw 1t") if k in rows]
        print(f"T1 fused 1t speed-up vs fastest peer: {min(peers1) / rows['cbce fused 1t']:.2f}x")
        print(f"T2 fused 2t / np.add: {rows['cbce fused 2t'] / rows['np.add']:.2f}")
        print(f"T3 probs+w+pw 1t speed-up vs fastest peer: "
              f"{min(peersp) / rows['cbce probs+w+pw fused 1t']:.2f}x")
        print(f"T4 loss 2t / np.dot: {rows['cbce loss 2t'] / rows['np.dot']:.2f}")


if __name__ == "__main__":
    main()
