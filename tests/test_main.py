"""`python -m cbce`: the main job (docs/getting-started.md). Run outside the repo root so the
installed package is the one imported."""
import re
import subprocess
import sys

import numpy as np

import cbce


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "cbce", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_help_explains_the_options(tmp_path):
    """`python -m cbce --help` exits 0 and documents --from-logits and --reduction."""
    proc = _run(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--from-logits" in proc.stdout and "--reduction" in proc.stdout


def test_loss_of_user_arrays(tmp_path):
    """`python -m cbce Y_TRUE.npy Y_PRED.npy --from-logits --reduction sum` prints the loss."""
    rng = np.random.default_rng(5)
    y, x = (rng.uniform(0, 1, 1000) < 0.2).astype(np.float64), rng.normal(0, 2, 1000)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", x)
    proc = _run(["y.npy", "x.npy", "--from-logits", "--reduction", "sum"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    expected = cbce.bce(y, x, from_logits=True, reduction="sum")
    numbers = [float(s) for s in re.findall(r"[-+]?\d+\.\d+(?:[eE][-+]?\d+)?", proc.stdout)]
    assert any(abs(v - expected) <= 1e-6 * abs(expected) for v in numbers), (expected, proc.stdout)


def test_main_job_runs_on_synthetic_data(tmp_path):
    """`python -m cbce` with no arguments runs the built-in job and exits 0."""
    proc = _run([], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
