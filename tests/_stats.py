"""Figures the reliability tests report to tools/reliability.py (docs/design.md, "Reliability").

When CBCE_RELIABILITY_STATS names a file, record() appends one JSON line to it; otherwise it
does nothing, so the tests behave the same under plain pytest.
"""
import json
import os


def record(part, **fields):
    path = os.environ.get("CBCE_RELIABILITY_STATS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"part": part, **fields}) + "\n")
