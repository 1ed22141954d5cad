"""Build cbce's compiled core.

One extension module, ``cbce._kernels``: the Cython core (src/_kernels.pyx with its .pxi files:
engine, entry points, C API, fast path, softmax engine), compiled once and without -march, linked
with one object per CPU target of the element loops. src/loops/table.c is compiled once per
target with that target's flags (TARGETS below) and exports that target's table of loop function
pointers (src/loops/table.h); cbce/_dispatch.py picks the best table the running CPU supports,
so the default build runs on any CPU of its architecture and still uses AVX-512 where it exists.
Targets: ``baseline`` (no -march: every x86-64 CPU; on aarch64 the armv8-a default, Advanced
SIMD) and, on x86-64 where the compiler accepts their flags, ``sse42`` (-march=x86-64-v2),
``avx2`` (-march=x86-64-v3) and ``avx512`` (-march=x86-64-v4). No build for the host CPU only
(no native -march). setuptools has no per-source flags, so BuildExt compiles the target objects
itself, in parallel with the core (CBCE_BUILD_JOBS processes), and adds them to the core's link.

OpenMP is probed, not assumed: where the compiler cannot build and link ``-fopenmp`` the
build stops unless CBCE_DISABLE_OPENMP=1 asks for the serial kernels (``cbce.show_config()``
reports which it is).

Compilers: GCC and clang (with libomp) on Linux, the ones CI builds and tests; see docs/install.md.
A compiler without OpenMP stops the build with an error that says how to proceed: pip shows a
successful build's output only under -v, so a warning there would go unseen and leave a silently
serial build.

Environment switches (build time):
  CBCE_DISABLE_OPENMP=1   build without OpenMP (serial kernels), also where it is unavailable.
  CBCE_DEBUG_INFO=1       keep debug info (-g); release builds drop it (it is ~80 % of each .so).
                          A -g in CFLAGS keeps it too (the sanitizer builds of tools/reliability.py).
  CBCE_CYTHON_DEBUG=1     compile with boundscheck/wraparound on (a debugging build, slow).
  CBCE_BASELINE_ONLY=1    build only the baseline loop table (faster builds, e.g. sanitizers).
  CBCE_CYTHON_LINETRACE=1 compile with Cython's line tracing, nogil code included, for coverage of
                          the Cython sources (Cython.Coverage plugin; very slow, never for use).
  CBCE_BUILD_JOBS=N       compile at most N objects at a time (default: build_ext -j, else the
                          number of CPUs).
"""
import glob
import os
import platform
import re
import threading
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -O3 vectorizes the element loops; -fno-math-errno lets libm calls inline. -fno-trapping-math
# lets GCC if-convert the selects of cbce_math.h on AVX2 (without it the loops stay scalar; it
# only gives up FP exception flags, which cbce never reads). The inline params let the whole
# per-element math inline into each loop (GCC's default unit-growth limit stops it halfway and
# the loop then stays scalar). Never fast-math: its finite-math-only mode folds NaN tests away.
BASE_COMPILE_ARGS = ["-O3", "-fno-math-errno", "-fno-trapping-math",
                     "--param", "inline-unit-growth=1000", "--param", "large-function-growth=1000"]


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _compiler():
    return os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"


def _compiles(flags, code="int main(void){return 0;}\n"):
    cc = _compiler().split()
    tmp = tempfile.mkdtemp(prefix="cbce-probe-")
    try:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write(code)
        cmd = cc + flags + [src, "-o", os.path.join(tmp, "t")]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or None when the compiler lacks it."""
    if _env_flag("CBCE_DISABLE_OPENMP"):
        return None
    test = "#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\nn+=1;\nreturn omp_get_max_threads()>0 ? 0 : 1;}\n"
    return (["-fopenmp"], ["-fopenmp"]) if _compiles(["-fopenmp"], test) else None


def debug_info_flags():
    """(compile_args, link_args) that drop debug info, unless asked to keep it."""
    if _env_flag("CBCE_DEBUG_INFO") or re.search(r"(^|\s)-g(?!0)", os.environ.get("CFLAGS", "")):
        return [], []
    # -g0 after sysconfig's -g; --strip-debug also drops what static archives bring in.
    return ["-g0"], (["-Wl,--strip-debug"] if sys.platform.startswith("linux") else [])


# The CPU targets of the element loops beyond the baseline, per architecture: (name, flags).
# cbce/_dispatch.py holds the CPU features each one needs and the order of preference.
TARGETS = {"x86_64": [("sse42", ["-march=x86-64-v2"]), ("avx2", ["-march=x86-64-v3"]),
                      ("avx512", ["-march=x86-64-v4"])]}


def cpu_variants():
    """(target name, flags) for each loop target this compiler can build, baseline first."""
    variants = [("baseline", [])]
    machine = {"amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
    if not _env_flag("CBCE_BASELINE_ONLY"):
        for name, flags in TARGETS.get(machine, []):
            if _compiles(flags):
                variants.append((name, flags))
            else:
                warnings.warn(f"cbce: the compiler rejects {flags}; no {name} loops")
    return variants


if sys.platform == "win32":
    # The flags below are GCC/clang spellings; MSVC builds are not tested, so none is attempted.
    sys.exit("cbce: Windows builds are not supported (setup.py passes GCC/clang flags and CI tests "
             "Linux only); see docs/install.md.")

omp = openmp_flags()
if omp is None and not _env_flag("CBCE_DISABLE_OPENMP"):
    sys.exit(f"cbce: the compiler {_compiler()!r} cannot build and link an OpenMP program "
             "(-fopenmp, <omp.h>). Install its OpenMP runtime (clang: libomp-dev / "
             "brew install libomp) or use GCC, or set CBCE_DISABLE_OPENMP=1 to build the serial "
             "kernels (n_threads > 1 then runs on one thread).")
if omp is None:
    # `#pragma omp simd` (src/loops/) needs only -fopenmp-simd, which needs no runtime.
    omp_compile, omp_link = (["-fopenmp-simd"] if _compiles(["-fopenmp-simd"]) else []), []
else:
    omp_compile, omp_link = omp

debug_compile, debug_link = debug_info_flags()
compile_args = BASE_COMPILE_ARGS + omp_compile + debug_compile
omp_link = omp_link + debug_link  # every link flag from here on, not only OpenMP's
directives = {"language_level": 3, "boundscheck": False, "wraparound": False,
              "cdivision": True, "initializedcheck": False, "embedsignature": True}
if _env_flag("CBCE_CYTHON_DEBUG"):
    directives.update(boundscheck=True, wraparound=True, initializedcheck=True)
trace_macros = []
if _env_flag("CBCE_CYTHON_LINETRACE"):
    directives.update(linetrace=True)
    trace_macros = [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")]

variants = cpu_variants()
# Build facts read back by cbce.show_config(); written before cythonize so the wheel ships them.
with open(os.path.join("cbce", "_build_info.py"), "w") as f:
    f.write("# Generated by setup.py at build time; do not edit.\n")
    f.write(f"OPENMP = {omp is not None!r}\n")
    f.write(f"COMPILE_ARGS = {compile_args!r}\n")
    f.write(f"LINK_ARGS = {omp_link!r}\n")
    f.write(f"CYTHON_DIRECTIVES = {directives!r}\n")
    f.write(f"COMPILER = {_compiler()!r}\n")
    f.write(f"VARIANTS = {variants!r}\n")


class BuildExt(build_ext):
    """build_ext with per-target objects: src/loops/table.c once per CPU target with its flags,
    compiled in parallel with the core's own C file, then linked into the core."""

    def build_extension(self, ext):
        if ext.name != "cbce._kernels":
            return super().build_extension(ext)
        targets = variants
        jobs = os.environ.get("CBCE_BUILD_JOBS") or self.parallel or os.cpu_count()
        jobs = max(1, int(jobs or 1))
        # At most `jobs` compilers at a time: the core's (this thread, started first: it is the
        # longest) and the target objects (the pool, widest instruction sets first). The link
        # waits for the targets.
        slots = threading.Semaphore(jobs)
        slots.acquire()
        core_slot = [True]

        def release_core_slot():
            if core_slot:
                core_slot.pop()
                slots.release()

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(self._compile_target, name, flags, slots)
                       for name, flags in reversed(targets)]
            compile_ = self.compiler.compile
            link = self.compiler.link_shared_object

            def compile_core(*args, **kwargs):
                try:
                    return compile_(*args, **kwargs)
                finally:
                    release_core_slot()

            def link_with_targets(objects, *args, **kwargs):
                targets_objects = [o for f in futures for o in f.result()]
                return link(list(objects) + targets_objects, *args, **kwargs)

            self.compiler.compile = compile_core
            self.compiler.link_shared_object = link_with_targets
            try:
                super().build_extension(ext)
            finally:
                release_core_slot()
                del self.compiler.compile, self.compiler.link_shared_object
                for f in futures:
                    f.result()

    def _compile_target(self, name, flags, slots):
        with slots:
            return self.compiler.compile(
                [os.path.join("src", "loops", "table.c")],
                output_dir=os.path.join(self.build_temp, "cbce_targets", name),
                macros=[("CBCE_TARGET", name)],
                include_dirs=[os.path.join("cbce", "include"), "src"],
                extra_postargs=compile_args + flags, debug=self.debug)


kernels = Extension(
    "cbce._kernels",
    ["src/_kernels.pyx"],
    depends=(["src/_kernels_impl.pxi", "src/_multiclass_impl.pxi", "src/cpu_dispatch.h",
              "src/loops/table.c", "cbce/include/cbce_math.h", "cbce/include/cbce_elementwise.h",
              "cbce/include/cbce.h"] + sorted(glob.glob(os.path.join("src", "loops", "*.h")))),
    include_dirs=[np.get_include(), os.path.join("cbce", "include"), "src"],
    define_macros=([("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                    ("CBCE_OPENMP", "1" if omp is not None else "0")]
                   + [(f"CBCE_BUILT_{name.upper()}", "1") for name, _ in variants[1:]]
                   + trace_macros),
    extra_compile_args=compile_args,
    extra_link_args=omp_link,
)

setup(
    ext_modules=cythonize(
        [kernels],
        compiler_directives=directives,
        compile_time_env={"CBCE_OPENMP": omp is not None},
    ),
    cmdclass={"build_ext": BuildExt},
)
