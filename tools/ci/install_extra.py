"""pip install the requirements of pyproject.toml's optional-dependency groups, without cbce:
`pip install ".[bench]"` would rebuild and reinstall the package the venv already holds.

    python tools/ci/install_extra.py bench release
"""
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
reqs = [r for name in sys.argv[1:] for r in extras["project"]["optional-dependencies"][name]]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "-q", *reqs]))
