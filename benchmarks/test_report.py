"""report.py on a synthetic pytest-benchmark JSON: the quick CI run keeps the report from rotting."""

import json

import pytest

import cases
import report


def _entry(case, impl, role, t):
    return {"group": case.id, "name": f"test[{case.id}-{impl}]",
            "extra_info": {**case.info(), "impl": impl, "label": impl.upper(), "role": role,
                           "loadavg_1m": 0.5},
            "stats": {"min": t, "median": 1.1 * t, "mean": 1.2 * t}}


@pytest.fixture
def results_json(tmp_path):
    benches = []
    for c in cases.headline_cases() + [cases._case("loss", "logits", "float64", n, t)
                                       for n in (10, 10**7) for t in (1, 2)]:
        roof = "roofline_add" if c.writes_grad else "roofline_dot"
        benches += [_entry(c, "cbce", "cbce", 1e-9 * c.n + 1e-6), _entry(c, "numpy", "peer", 1e-8 * c.n + 4e-6),
                    _entry(c, roof, "roofline", 0.8e-9 * c.n + 1e-7)]
        if c.threads == 2:
            benches.append(_entry(c, "cbce_auto", "cbce", 1e-9 * c.n + 1e-6))
    doc = {"benchmarks": benches, "datetime": "2025-01-01T00:00:00", "version": "5",
           "commit_info": {"id": "0123456789abcdef", "dirty": False},
           "machine_info": {"cbce_bench": {"cpu": {"model": "Test CPU", "simd": ["avx2"]}, "cores": 2,
                                           "env": {"OPENBLAS_CORETYPE": "Haswell"}}}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    return path


def test_report_writes_table_and_targets(results_json, tmp_path):
    """RESULTS.md has the machine, the speed-target verdicts and one table per section."""
    md, _, _ = report.build(str(results_json), out_dir=str(tmp_path), plots=False)
    text = open(md).read()
    assert "Test CPU" in text and "AVX-512: **no**" in text
    assert "- **Commit**: `0123456789ab`" in text
    assert "OPENBLAS_CORETYPE=Haswell" in text and "np.dot" in text
    assert "| 1 | fused loss+grad, logits, float64, N=10^7, 1 thread" in text
    assert "10×" in text and "met" in text            # 10x faster than the only peer
    assert "### Fused loss + gradient" in text and "### Loss only" in text


def test_report_plots(results_json, tmp_path):
    """With matplotlib, the throughput and speed-up PNGs are written and linked."""
    pytest.importorskip("matplotlib")
    md, written, _ = report.build(str(results_json), out_dir=str(tmp_path))
    assert "speedup_N1e7.png" in written and any(w.startswith("throughput_") for w in written)
    assert all((tmp_path / w).stat().st_size > 0 for w in written)
    assert "![speedup_N1e7](speedup_N1e7.png)" in open(md).read()
