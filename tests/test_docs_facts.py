"""Constants stated in prose equal the code's: header comments, docstrings, the README and the docs
pages (docs/design.md, "The documentation"). The pages substitute them from the code
(docs/_ext/cbce_facts.py); this catches a number typed by hand that has drifted."""
import glob
import os
import re

import pytest

import cbce

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = ["cbce/include/cbce.h", "cbce/include/cbce_elementwise.h", "cbce/include/cbce_math.h"]


def _code_facts():
    cfg = cbce.show_config(print_=False)
    with open(os.path.join(cbce.get_include(), "cbce.h"), encoding="utf-8") as f:
        abi = int(re.search(r"^#define CBCE_ABI_VERSION (\d+)\s*$", f.read(), re.M).group(1))
    with open(os.path.join(cbce.get_include(), "cbce_elementwise.h"), encoding="utf-8") as f:
        ulp = int(re.search(r"within the (\d+)-ulp contract", f.read()).group(1))
    return {"parallel_threshold": int(cfg["parallel_threshold"]),
            "block_size": int(cfg["block_size"]), "abi_version": abi, "ulp": ulp}


FACTS = _code_facts()

# How prose states each constant. Each pattern's group is the number; the phrasing is the one
# the sources use ("below 16384 elements", "blocks of 2048 elements", "4 ulp of the exact value").
PATTERNS = [
    ("parallel_threshold", re.compile(r"(?:below|under|fewer than)\s+(\d[\d_,]*)\s+elements")),
    ("block_size", re.compile(r"blocks of\s+(\d[\d_,]*)\s+elements")),
    ("abi_version", re.compile(r"CBCE_ABI_VERSION`?\s+\((\d+)\)")),
    ("ulp", re.compile(r"within\s+(\d+)\s+ulp of the exact value")),
    ("ulp", re.compile(r"within\s+(\d+)\s+ulp of (?:the size of its terms|its terms' size)")),
]


def stated(text):
    """[(fact, value, excerpt)] for every constant `text` states."""
    text = re.sub(r"\n[ \t]*(?:\*(?!/)|#|//)?", " ", text)  # join lines of C / Python comments
    out = []
    for fact, pat in PATTERNS:
        for m in pat.finditer(text):
            value = int(re.sub(r"[_,]", "", m.group(1)))
            out.append((fact, value, " ".join(m.group(0).split())))
    return out


def wrong(text):
    return [(f, v, s) for f, v, s in stated(text) if v != FACTS[f]]


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _prose_files():
    files = [os.path.join(ROOT, "README.md")]
    files += [p for p in glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)
              if os.sep + "_build" + os.sep not in p and os.sep + "_generated" + os.sep not in p]
    return [p for p in files if os.path.isfile(p)]


def _public_functions():
    import cbce.metrics

    mods = [cbce, cbce.metrics]
    return [(f"{m.__name__}.{n}", getattr(m, n)) for m in mods for n in m.__all__
            if callable(getattr(m, n))]


def test_checker_catches_a_drifted_constant():
    """The scan finds a stale threshold, block size, ABI version and ulp bound (it can fail)."""
    text = (" * Threads: inputs below\n * 32768 elements run on the calling thread; blocks of 4096\n"
            "# elements; `CBCE_ABI_VERSION` (7); within 3 ulp of the exact value")
    assert {f for f, _, _ in wrong(text)} == {"parallel_threshold", "block_size", "abi_version",
                                              "ulp"}


@pytest.mark.parametrize("header", HEADERS)
def test_header_comments_state_the_code_constants(header):
    """A C header's comments (installed copy) state the constants the code uses."""
    path = os.path.join(cbce.get_include(), os.path.basename(header))
    assert not wrong(_read(path)), wrong(_read(path))


def test_cbce_h_states_the_parallel_threshold():
    """cbce.h tells C users the threshold below which a call runs on the calling thread."""
    found = [v for f, v, _ in stated(_read(os.path.join(cbce.get_include(), "cbce.h")))
             if f == "parallel_threshold"]
    assert found == [FACTS["parallel_threshold"]]


def test_docstrings_state_the_code_constants():
    """Public docstrings state the code's constants; bce's states the parallel threshold."""
    bad = {name: wrong(f.__doc__ or "") for name, f in _public_functions()}
    assert not {k: v for k, v in bad.items() if v}
    assert ("parallel_threshold", FACTS["parallel_threshold"]) in \
        [(f, v) for f, v, _ in stated(cbce.bce.__doc__)]


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "docs")),
                    reason="no docs/ folder next to the tests (e.g. an sdist)")
@pytest.mark.parametrize("path", _prose_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_pages_state_the_code_constants(path):
    """The README and every docs page state only the code's constants (or substitute them)."""
    assert not wrong(_read(path)), wrong(_read(path))


@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, "docs", "_ext", "cbce_facts.py")),
                    reason="no docs/ folder next to the tests (e.g. an sdist)")
def test_docs_substitute_the_same_constants():
    """The values the docs build substitutes ({{ parallel_threshold }}, ...) are the code's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cbce_facts", os.path.join(ROOT, "docs", "_ext", "cbce_facts.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert {k: mod.facts()[k] for k in FACTS} == FACTS
