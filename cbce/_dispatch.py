"""Pick the CPU target of the element loops (setup.py builds one loop table per target).

cbce._kernels is one module; only its element loops are compiled per CPU target
(src/loops/table.h). This module chooses the table at import: the first target of _PREFERENCE
that was built and that this CPU runs, or the one CBCE_KERNEL=baseline|sse42|avx2|avx512 forces
(the test suite runs on each); forcing a target the CPU cannot run raises ImportError instead of
crashing with an illegal instruction. Targets may differ in the last bits of a result (FMA
contraction, vector widths); each is deterministic across threads, layouts and positions.
"""
import os

from cbce import _kernels as kernels

# The CPU features each target's flags let the compiler use (setup.py, TARGETS): x86-64-v2,
# -v3 and -v4, as far as __builtin_cpu_supports names them (src/cpu_dispatch.h).
_V2 = ("sse3", "ssse3", "sse4.1", "sse4.2", "popcnt")
_V3 = _V2 + ("avx2", "fma", "bmi", "bmi2")
_NEEDS = {"baseline": (), "sse42": _V2, "avx2": _V3,
          "avx512": _V3 + ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")}
_PREFERENCE = ("avx512", "avx2", "sse42", "baseline")


def available():
    """{target: whether it was built and this CPU can run it}, in order of preference."""
    cpu = kernels.cpu_features()
    return {name: name in kernels.TARGETS and all(cpu[f] for f in _NEEDS[name])
            for name in _PREFERENCE}


def select():
    """The target to use: CBCE_KERNEL's, or the preferred one this CPU runs."""
    forced = os.environ.get("CBCE_KERNEL", "").strip().lower()
    usable = available()
    if forced:
        if forced not in _NEEDS:
            raise ImportError(f"CBCE_KERNEL must be one of {sorted(_NEEDS)}; got {forced!r}")
        if not usable[forced]:
            why = ("was not built" if forced not in kernels.TARGETS
                   else "needs CPU features this CPU lacks: "
                        + ", ".join(f for f in _NEEDS[forced] if not kernels.cpu_features()[f]))
            raise ImportError(f"CBCE_KERNEL={forced!r}: that target {why} (usable here: "
                              f"{[k for k, v in usable.items() if v]})")
        return forced
    return next(name for name in _PREFERENCE if usable[name])


variant = select()
kernels._select_target(variant)
# libgomp is not fork-safe: a child of a process that used the OpenMP pool runs serially.
os.register_at_fork(after_in_child=kernels._after_fork_in_child)
