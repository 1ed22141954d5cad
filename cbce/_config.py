"""cbce.show_config(): how this build of cbce was compiled and how it will run."""
import sys

from cbce import _dispatch
from cbce._dispatch import kernels as _kernels

try:
    from cbce import _build_info
except ImportError:  # pragma: no cover - a build always writes it
    _build_info = None


def show_config(print_=True):
    """Print (unless print_=False) and return the build and runtime configuration.

    Keys: version, kernel_variant (the one in use), kernel_variants (built and runnable here),
    openmp, default_n_threads, parallel_threshold, block_size, compiler, compile_args,
    variant_flags, link_args, cython_directives, python.
    """
    from cbce import __version__

    info = {
        "version": __version__,
        "kernel_variant": _kernels.VARIANT,
        "kernel_variants": [k for k, ok in _dispatch.available().items() if ok],
        "openmp": bool(_kernels.OPENMP),
        "default_n_threads": _kernels.max_threads(),
        "parallel_threshold": _kernels.PARALLEL_THRESHOLD,
        "block_size": _kernels.BLOCK_SIZE,
        "compiler": getattr(_build_info, "COMPILER", "unknown"),
        "compile_args": list(getattr(_build_info, "COMPILE_ARGS", [])),
        "variant_flags": dict(getattr(_build_info, "VARIANTS", [])),
        "link_args": list(getattr(_build_info, "LINK_ARGS", [])),
        "cython_directives": dict(getattr(_build_info, "CYTHON_DIRECTIVES", {})),
        "python": sys.version.split()[0],
    }
    if print_:
        width = max(map(len, info))
        for k, v in info.items():
            print(f"{k:<{width}} : {v}")
    return info
