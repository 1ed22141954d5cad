"""Constants the docs state, read from the code: never typed into a page.

`substitutions()` gives MyST's ``{{ name }}`` values: the parallel threshold and the summation
block size from ``cbce.show_config()``, the C API's ABI version from ``cbce.h``, the per-element
accuracy contract from note A of ``cbce_elementwise.h``. tests/test_docs_facts.py reads the same
sources through `facts()` and fails when a page, a docstring or a header comment states another
value.
"""
import importlib.util
import os
import re


def importable(name):
    return importlib.util.find_spec(name) is not None


def _header(name):
    import cbce

    with open(os.path.join(cbce.get_include(), name), encoding="utf-8") as f:
        return f.read()


def facts():
    import cbce

    cfg = cbce.show_config(print_=False)
    abi = re.search(r"^#define CBCE_ABI_VERSION (\d+)\s*$", _header("cbce.h"), re.M)
    # Note A: "... within the 4-ulp contract for loss, gradient ..."
    ulp = re.search(r"within the (\d+)-ulp contract", _header("cbce_elementwise.h"))
    if not abi or not ulp:
        raise RuntimeError("cbce.h's CBCE_ABI_VERSION or note A's ulp contract in "
                           "cbce_elementwise.h was not found: update docs/_ext/cbce_facts.py")
    return {
        "version": cbce.__version__,
        "parallel_threshold": int(cfg["parallel_threshold"]),
        "block_size": int(cfg["block_size"]),
        "abi_version": int(abi.group(1)),
        "ulp": int(ulp.group(1)),
    }


def substitutions():
    return {k: str(v) for k, v in facts().items()}
