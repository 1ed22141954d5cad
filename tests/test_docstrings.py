"""Every public function has a numpydoc docstring whose examples run.

The examples are run here as doctests, on the installed package, with no extra pytest option;
the table below must list every public name (a completeness check, as scipy.special's).
"""
import doctest
import importlib.util
import inspect
import re

import pytest

import cbce
import cbce.metrics

HAS_TORCH = importlib.util.find_spec("torch") is not None

PUBLIC = {
    "cbce.bce": cbce.bce,
    "cbce.bce_grad": cbce.bce_grad,
    "cbce.bce_loss_and_grad": cbce.bce_loss_and_grad,
    "cbce.bce_grad_hess": cbce.bce_grad_hess,
    "cbce.cross_entropy": cbce.cross_entropy,
    "cbce.cross_entropy_grad": cbce.cross_entropy_grad,
    "cbce.cross_entropy_loss_and_grad": cbce.cross_entropy_loss_and_grad,
    "cbce.show_config": cbce.show_config,
    "cbce.get_include": cbce.get_include,
    "cbce.metrics.log_loss": cbce.metrics.log_loss,
}
TORCH_PUBLIC = ["binary_cross_entropy_with_logits", "binary_cross_entropy",
                "BCEWithLogitsLoss", "BCELoss", "cross_entropy", "CrossEntropyLoss",
                "sigmoid_focal_loss"]
if HAS_TORCH:
    import cbce.torch

    PUBLIC.update({f"cbce.torch.{n}": getattr(cbce.torch, n) for n in TORCH_PUBLIC})

# Optional packages an example imports (the test extra has them).
NEEDS = {"cbce.show_config": "threadpoolctl"}
PARAMS = [pytest.param(obj, id=name) for name, obj in PUBLIC.items()]


def _section(doc, title):
    """The body of a numpydoc section, or None."""
    m = re.search(rf"^ *{title}\n *-{{{len(title)}}}\n(.*?)(?=^ *\w[\w ]*\n *-{{3,}}\n|\Z)",
                  doc, re.S | re.M)
    return m.group(1) if m else None


def test_table_lists_every_public_name():
    """PUBLIC names cbce.__all__, cbce.metrics.__all__ and cbce.torch.__all__, no more."""
    names = {f"cbce.{n}" for n in cbce.__all__ if n != "__version__"}
    names |= {f"cbce.metrics.{n}" for n in cbce.metrics.__all__}
    if HAS_TORCH:
        names |= {f"cbce.torch.{n}" for n in cbce.torch.__all__}
    assert names == set(PUBLIC)


@pytest.mark.parametrize("obj", PARAMS)
def test_numpydoc_sections(obj):
    """Parameters (every argument of the signature, no other; none without arguments),
    Returns and Examples."""
    doc = inspect.getdoc(obj)
    assert doc, "no docstring"
    target = obj.__init__ if inspect.isclass(obj) else obj
    expected = {n for n in inspect.signature(target).parameters if n != "self"}
    params = _section(doc, "Parameters")
    assert params is not None or not expected, "no Parameters section"
    documented = set()
    for line in (params or "").splitlines():
        m = re.match(r"^(\w[\w, ]*) : ", line)
        if m:
            documented |= {n.strip() for n in m.group(1).split(",")}
    assert documented == expected, f"documented {documented ^ expected} differ"
    if not inspect.isclass(obj):
        assert _section(doc, "Returns") is not None, "no Returns section"
    examples = _section(doc, "Examples")
    assert examples is not None and ">>>" in examples, "no Examples section with code"


@pytest.mark.parametrize("obj", PARAMS)
def test_examples_run(obj):
    """The docstring's examples (and its methods') pass as doctests."""
    name = next(n for n, o in PUBLIC.items() if o is obj)
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(obj, globs={}) if t.examples]
    assert tests, "no doctest found"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
