#!/usr/bin/env python3
"""Open every page of the built docs in headless Chromium and check what a reader would see.

    python tools/docs_browser_check.py docs/_build/html [--shots DIR] [--chromium PATH]

For each page: it loads, has a title heading and body text, and every <img> on it was fetched and
decoded by the browser (naturalWidth > 0); a screenshot is taken and must not be blank. The API
pages must list every name in the __all__ of cbce and of each public submodule (read from the
installed sources, so cbce.torch is checked without torch). Exit status 1 lists every failure.
Run by tools/check_docs.sh.
"""
import argparse
import ast
import glob
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# Injected into a copy of each page: after load, the page reports its images and text to the DOM
# that --dump-dom prints.
PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0};
  });
  var h1 = document.querySelector("article h1, main h1, h1");
  var out = document.createElement("pre");
  out.id = "cbce-probe";
  out.textContent = JSON.stringify({imgs: imgs, h1: h1 ? h1.textContent : null,
    text: (document.querySelector("article") || document.body).innerText.length});
  document.body.appendChild(out);
});
</script>
"""
# Pages Sphinx writes that are not documentation (search needs its index loaded by JS).
SKIP = {"search.html", "genindex.html", "py-modindex.html"}
MODULES = ["cbce", "cbce.metrics", "cbce.torch", "cbce.dask", "cbce.xgboost", "cbce.lightgbm"]


def find_chromium(given):
    for name in ([given] if given else []) + ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    sys.exit("no Chromium found: apt-get install -y chromium (tools/check_docs.sh does it)")


def chromium(browser, *args):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--allow-file-access-from-files", "--virtual-time-budget=5000",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def module_all(name):
    """A module's __all__, read from its installed source without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name.rsplit(".", 1)[0]) if "." in name else None
    base = os.path.dirname(spec.origin) if spec else None
    if name == "cbce":
        path = os.path.join(os.path.dirname(importlib.util.find_spec("cbce").origin), "__init__.py")
    else:
        path = os.path.join(base, name.rsplit(".", 1)[1] + ".py")
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and \
                any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return [n for n in ast.literal_eval(node.value) if not n.startswith("__")]
    raise RuntimeError(f"{path} has no __all__")


def check_page(browser, site, copy, page, shots):
    problems = []
    url = "file://" + os.path.join(copy, page)
    png = os.path.join(shots, page.replace(os.sep, "__").replace(".html", ".png"))
    r = chromium(browser, "--dump-dom", f"--screenshot={png}", "--window-size=1280,1600", url)
    dom = r.stdout
    probe = read_probe(dom)
    if probe is None:
        err = r.stderr.strip()[-300:]
        return [f"{page}: did not load (chromium rc {r.returncode}: {err})"], dom
    if not probe["h1"]:
        problems.append(f"{page}: no title heading")
    if probe["text"] < 100:
        problems.append(f"{page}: almost no text ({probe['text']} characters)")
    for img in probe["imgs"]:
        if not img["ok"]:
            problems.append(f"{page}: image {img['src']} did not load")
    problems += [f"{page}: {p}" for p in blank_screenshot(png)]
    return problems, dom


def read_probe(dom):
    m = re.search(r'<pre id="cbce-probe"[^>]*>(.*?)</pre>', dom, re.S)
    return json.loads(html.unescape(m.group(1))) if m else None


def blank_screenshot(png):
    if not os.path.isfile(png) or os.path.getsize(png) == 0:
        return ["no screenshot written"]
    try:
        from PIL import Image
    except ImportError:
        return []
    with Image.open(png) as im:
        lo, hi = im.convert("L").getextrema()
    return [] if hi - lo > 64 else [f"screenshot is blank (grey levels {lo}-{hi})"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", help="the built HTML folder, e.g. docs/_build/html")
    ap.add_argument("--shots", help="keep the screenshots here (default: a temporary folder)")
    ap.add_argument("--chromium", help="the browser executable")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    browser = find_chromium(args.chromium)
    site = os.path.abspath(args.site)
    found = glob.glob(os.path.join(site, "**", "*.html"), recursive=True)
    pages = sorted(os.path.relpath(p, site) for p in found
                   if not os.path.relpath(p, site).startswith("_") and os.path.basename(p) not in SKIP)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "site")
        shutil.copytree(site, copy)
        for page in pages:
            path = os.path.join(copy, page)
            html = open(path, encoding="utf-8").read()
            open(path, "w", encoding="utf-8").write(html.replace("</body>", PROBE + "</body>", 1))
        shots = args.shots or os.path.join(tmp, "shots")
        os.makedirs(shots, exist_ok=True)
        with ThreadPoolExecutor(args.jobs) as ex:
            results = dict(zip(pages, ex.map(lambda p: check_page(browser, site, copy, p, shots), pages)))
    problems = [p for probs, _ in results.values() for p in probs]
    n_imgs = sum(len((read_probe(d) or {}).get("imgs", [])) for _, d in results.values())

    # The API pages list every public name.
    for mod in MODULES:
        page = "api/index.html" if mod == "cbce" else f"api/generated/{mod}.html"
        dom = results.get(page, ([], ""))[1]
        if not dom:
            problems.append(f"{page}: missing (the API reference of {mod})")
            continue
        for name in module_all(mod):
            if f"{mod}.{name}" not in dom and f">{name}<" not in dom:
                problems.append(f"{page}: public name {mod}.{name} is not listed")
            if not os.path.isfile(os.path.join(site, "api", "generated", f"{mod}.{name}.html")):
                problems.append(f"{mod}.{name}: no API page of its own")

    print(f"{len(pages)} pages, {n_imgs} images, {len(MODULES)} API modules checked in Chromium"
          + (f"; screenshots in {args.shots}" if args.shots else ""))
    for p in problems:
        print("FAIL", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
