"""The performance page's figures: benchmarks/report.py run at docs build time.

The benchmark JSON is taken from $CBCE_BENCH_JSON, else the newest run saved under .benchmarks/
(`pytest benchmarks --benchmark-save=NAME`). With one, docs/_generated/bench/ receives the report
(stamped with the run's commit, CPU model and date) and its plots, and the page includes them;
without one, the page says how to produce them. Nothing generated is committed.
"""
import glob
import json
import os
import shutil
import sys

DOCS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(DOCS)
OUT = os.path.join(DOCS, "_generated", "bench")

NO_RUN = """\
No benchmark run was found when these pages were built, so this section has no figures. To
render them, run the suite and rebuild the docs:

```bash
pip install ".[bench,docs]"
pytest benchmarks --benchmark-json=build/bench.json       # ~10 min on 2 cores; see "Running"
CBCE_BENCH_JSON=build/bench.json sphinx-build -W docs docs/_build/html
```
"""


def find_json():
    path = os.environ.get("CBCE_BENCH_JSON")
    if path:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"CBCE_BENCH_JSON={path!r} is not a file")
        return path
    found = glob.glob(os.path.join(ROOT, ".benchmarks", "**", "*.json"), recursive=True)
    return max(found, key=os.path.getmtime) if found else None


def render(app):
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    path = find_json()
    text = NO_RUN
    if path:
        sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
        try:
            import report
        finally:
            sys.path.pop(0)
        with open(path, encoding="utf-8") as f:
            quick = ((json.load(f).get("cbce_bench_run") or {}).get("options") or {}).get("quick")
        note = ("A --bench-quick run (every N capped at 1000): it shows that the report renders, "
                "not how fast cbce is." if quick else None)
        md, _, _ = report.build(path, out_dir=OUT, note=note)
        with open(md, encoding="utf-8") as f:
            body = f.read()
        # The report's own title is replaced by the page's section heading.
        text = body.split("\n", 1)[1].lstrip("\n") if body.startswith("# ") else body
    with open(os.path.join(OUT, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)


def setup(app):
    app.connect("builder-inited", render)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
