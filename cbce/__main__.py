"""python -m cbce: the main job.

Without arguments: a demonstration on synthetic data (a logistic model's logits for 10^6 samples
with imbalanced labels): loss, gradient norm, a self-check against a plain NumPy reference, the
build configuration and a short speed comparison with NumPy.

With arguments: the loss of your own arrays, e.g.
    python -m cbce y_true.npy y_pred.npy --from-logits --reduction sum --pos-weight 3
"""
import argparse
import sys
import time

import numpy as np

import cbce


def _numpy_reference(y, z):
    """What a careful user writes by hand: the stable logits form, float64."""
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    grad = (1.0 / (1.0 + np.exp(-z)) - y) / z.size
    return float(loss), grad


def _best_of(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def demo(n=1_000_000, seed=0):
    rng = np.random.default_rng(seed)
    d = 8
    features = rng.standard_normal((n, d))
    coef = rng.normal(0.0, 1.0, d)
    true_logit = features @ coef - 3.0                         # ~10% positives
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-true_logit))).astype(np.float64)
    z = features @ (coef + rng.normal(0.0, 0.3, d)) - 2.5      # a slightly wrong model
    print(f"cbce {cbce.__version__}: binary cross-entropy of a logistic model's logits")
    print(f"  samples: {n:,}  positives: {y.mean():.1%}")

    loss, grad = cbce.bce_loss_and_grad(y, z, from_logits=True)
    print(f"  loss (mean BCE):   {loss:.12f}")
    print(f"  gradient L2 norm:  {np.linalg.norm(grad):.6e}")
    balance = float(np.sum(y == 0) / max(np.sum(y == 1), 1))
    loss_pw = cbce.bce(y, z, from_logits=True, pos_weight=balance)
    print(f"  loss with pos_weight={balance:.2f} (class balance): {loss_pw:.12f}")

    ref_loss, ref_grad = _numpy_reference(y, z)
    rel = abs(loss - ref_loss) / ref_loss
    gerr = float(np.max(np.abs(grad - ref_grad)) / np.max(np.abs(ref_grad)))
    ok = rel < 1e-12 and gerr < 1e-12
    print(f"  self-check vs NumPy: loss rel. diff {rel:.1e}, grad max rel. diff {gerr:.1e} "
          f"-> {'OK' if ok else 'MISMATCH'}")

    print("\nBuild configuration")
    cfg = cbce.show_config(print_=False)
    for key in ("kernel_variant", "openmp", "default_n_threads", "compile_args"):
        print(f"  {key}: {cfg[key]}")

    print(f"\nSpeed, fused loss + gradient of {n:,} float64 logits (best of 5)")
    t_np = _best_of(lambda: _numpy_reference(y, z))
    out = np.empty_like(z)
    rows = [("NumPy by hand", t_np)]
    for nt in sorted({1, cfg["default_n_threads"]}):
        t = _best_of(lambda: cbce.bce_loss_and_grad(y, z, from_logits=True, n_threads=nt, out=out))
        rows.append((f"cbce, {nt} thread{'s' if nt > 1 else ''}", t))
    for name, t in rows:
        print(f"  {name:<18} {t * 1e3:8.2f} ms  {n / t / 1e6:8.1f} Melem/s  "
              f"{t_np / t:5.1f}x NumPy")
    return 0 if ok else 1


def _load(path, name):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cbce: cannot read {name} from {path!r}: {exc}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cbce",
        description="Binary cross-entropy of two .npy arrays (y_true, y_pred). Without "
                    "arguments, run a demonstration on synthetic data with a self-check "
                    "and a speed comparison.")
    parser.add_argument("y_true", nargs="?", help=".npy file of labels in [0, 1]")
    parser.add_argument("y_pred", nargs="?", help=".npy file of probabilities (or logits)")
    parser.add_argument("--from-logits", action="store_true", help="y_pred holds logits")
    parser.add_argument("--reduction", default="mean",
                        choices=["mean", "sum", "weighted_mean", "none"])
    parser.add_argument("--pos-weight", type=float, default=None, help="weight of positives")
    parser.add_argument("--sample-weight", metavar="W.npy", help=".npy file of sample weights")
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--eps", type=float, default=None,
                        help="clip probabilities to [eps, 1-eps]")
    parser.add_argument("--n-threads", type=int, default=None)
    parser.add_argument("--save", metavar="OUT.npy",
                        help="with --reduction none: write the per-element losses here")
    args = parser.parse_args(argv)

    if args.y_true is None and args.y_pred is None:
        return demo()
    if args.y_pred is None:
        parser.error("give both Y_TRUE.npy and Y_PRED.npy, or neither for the demonstration")
    y_true = _load(args.y_true, "y_true")
    y_pred = _load(args.y_pred, "y_pred")
    sw = _load(args.sample_weight, "sample_weight") if args.sample_weight else None
    try:
        loss = cbce.bce(y_true, y_pred, from_logits=args.from_logits, sample_weight=sw,
                        pos_weight=args.pos_weight, label_smoothing=args.label_smoothing,
                        eps=args.eps, reduction=args.reduction, n_threads=args.n_threads)
    except (ValueError, TypeError) as exc:
        print(f"cbce: {exc}", file=sys.stderr)
        return 2
    if args.reduction == "none":
        print(f"per-element losses: shape {loss.shape}, dtype {loss.dtype}, "
              f"min {loss.min() if loss.size else float('nan'):.6g}, "
              f"max {loss.max() if loss.size else float('nan'):.6g}")
        if args.save:
            np.save(args.save, loss)
            print(f"saved to {args.save}")
    else:
        print(repr(loss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
