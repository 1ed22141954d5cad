"""Fused loss + gradient (``cbce.bce_loss_and_grad``) against each peer, same inputs, same group.

The headline speed targets 1-3 and 6 (docs/performance.md). Roofline: ``np.add(x, y, out=g)``, one memory pass that
reads the same two inputs and writes one output. Cases and implementations: cases.py / peers.py.
"""

OP = "loss_grad"


def test_loss_and_grad(benchmark, bench_case):
    """One call of the case's implementation, timed; group and extra_info come from bench_case."""
    benchmark(bench_case.fn)
