"""Gradient + hessian from logits (``cbce.bce_grad_hess``, what a boosting library calls) against
each peer, same inputs, same group. Roofline: ``np.add(x, y, out=g)`` (it writes one output where
grad_hess writes two, so 100 % of it is out of reach here; docs/benchmarks.md, "How to read the
numbers").
"""

OP = "grad_hess"


def test_grad_hess(benchmark, bench_case):
    """One call of the case's implementation, timed; group and extra_info come from bench_case."""
    benchmark(bench_case.fn)
