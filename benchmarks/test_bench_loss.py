"""Reduced loss alone (``cbce.bce``) against each peer, same inputs, same group.

Roofline: ``np.dot(x, y)``, a read-only pass over the same two inputs (speed target 4).
Cases and implementations: cases.py / peers.py; the per-call overhead case is N = 10 (target 5).
"""

OP = "loss"


def test_loss(benchmark, bench_case):
    """One call of the case's implementation, timed; group and extra_info come from bench_case."""
    benchmark(bench_case.fn)
