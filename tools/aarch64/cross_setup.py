"""Run cbce's setup.py on an x86-64 host so that it builds for aarch64 (tools/check_aarch64_python.sh).

    python cross_setup.py SYSROOT NUMPY_INCLUDE [setup.py arguments ...]

run from the source tree, with the environment check_aarch64_python.sh sets:
_PYTHON_HOST_PLATFORM=linux-aarch64 and _PYTHON_SYSCONFIGDATA_NAME naming the sysroot's
_sysconfigdata__linux_aarch64-linux-gnu (on PYTHONPATH), so that sysconfig answers for the arm64
CPython: its CC (aarch64-linux-gnu-gcc), CFLAGS, LDSHARED and EXT_SUFFIX, and the platform tag.

setup.py itself runs unchanged (its flags, targets, OpenMP probe, Cython directives); three
answers that sysconfig does not give in cross mode are redirected to the target:
  * numpy.get_include(): the aarch64 NumPy's headers (the host NumPy only runs setup.py);
  * the Python headers: the sysroot's /usr/include/python3.11, and the sysroot's /usr/include for
    Debian's multiarch pyconfig.h (it includes <aarch64-linux-gnu/python3.11/pyconfig.h>, found
    in /usr/include on a native arm64 system, not in the cross compiler's default path);
  * platform.machine(): "aarch64", so setup.py picks the aarch64 targets (baseline only) as a
    native build does, instead of probing the x86-64 targets with the cross compiler.
"""
import os
import platform
import runpy
import sys

sysroot, numpy_include = (os.path.abspath(p) for p in sys.argv[1:3])
sys.argv = ["setup.py"] + sys.argv[3:]

import numpy  # noqa: E402

numpy.get_include = lambda: numpy_include
platform.machine = lambda: "aarch64"

import setuptools  # noqa: E402,F401  (setuptools' own distutils, which setup.py uses)
from setuptools._distutils import sysconfig as dsysconfig  # noqa: E402

pyver = "python%d.%d" % sys.version_info[:2]


def get_python_inc(plat_specific=False, prefix=None):
    if plat_specific:
        return os.path.join(sysroot, "usr", "include")
    return os.path.join(sysroot, "usr", "include", pyver)


dsysconfig.get_python_inc = get_python_inc
sys.path.insert(0, os.getcwd())
runpy.run_path("setup.py", run_name="__main__")
