"""Pick the kernel variant for this CPU (setup.py builds one module per variant).

Order of preference: avx512 (x86-64-v4), avx2 (x86-64-v3), baseline. The environment variable
CBCE_KERNEL=baseline|avx2|avx512 forces one (the test suite runs on each); forcing a variant the
CPU cannot run raises instead of crashing with an illegal instruction. Variants may differ in
the last bits of a result (FMA contraction); each is deterministic across threads and layouts.
"""
import importlib
import os

from cbce import _kernels as _baseline

_MODULES = {"baseline": "cbce._kernels", "avx2": "cbce._kernels_avx2",
            "avx512": "cbce._kernels_avx512"}
_NEEDS = {"baseline": (), "avx2": ("avx2", "fma", "bmi", "bmi2"),
          "avx512": ("avx2", "fma", "bmi", "bmi2", "avx512f", "avx512bw", "avx512cd",
                     "avx512dq", "avx512vl")}
_PREFERENCE = ("avx512", "avx2", "baseline")


def _load(name):
    try:
        module = importlib.import_module(_MODULES[name])
    except ImportError:
        return None
    if module not in _fork_hooked:
        # libgomp is not fork-safe: a child of a process that used the OpenMP pool runs serially.
        os.register_at_fork(after_in_child=module._after_fork_in_child)
        _fork_hooked.add(module)
    return module


_fork_hooked = set()


def available():
    """{variant: whether it was built and this CPU can run it}."""
    cpu = _baseline.cpu_features()
    return {name: all(cpu[f] for f in _NEEDS[name]) and _load(name) is not None
                  for name in _PREFERENCE}


def select():
    forced = os.environ.get("CBCE_KERNEL", "").strip().lower()
    usable = available()
    if forced:
        if forced not in _MODULES:
            raise ImportError(f"CBCE_KERNEL must be one of {sorted(_MODULES)}; got {forced!r}")
        if not usable[forced]:
            raise ImportError(f"CBCE_KERNEL={forced!r}: that variant was not built or this CPU "
                              f"cannot run it (usable: {[k for k, v in usable.items() if v]})")
        return _load(forced)
    for name in _PREFERENCE:
        if usable[name]:
            return _load(name)
    return _baseline  # pragma: no cover - baseline is always usable


kernels = select()
