"""cbce.show_config(): how this build of cbce was compiled and how it will run."""
import sys

from cbce import _dispatch
from cbce._dispatch import kernels as _kernels

try:
    from cbce import _build_info
except ImportError:  # pragma: no cover - a build always writes it
    _build_info = None


def show_config(print_=True):
    """Print (unless ``print_=False``) and return the build and runtime configuration.

    Parameters
    ----------
    print_ : bool, default=True
        Whether to print the configuration, one ``key : value`` line per entry.

    Returns
    -------
    config : dict
        version; kernel_variant (the CPU target of the element loops in use: baseline,
        sse42, avx2 or avx512, chosen for this CPU or forced with ``CBCE_KERNEL``);
        kernel_variants (the targets built that this CPU runs); kernel_variants_built (every
        target built, runnable here or not); openmp (whether the kernels were built with
        OpenMP); default_n_threads (what n_threads=None uses now: ``omp_get_max_threads()``,
        which ``OMP_NUM_THREADS`` and threadpoolctl set); parallel_threshold (fewer elements
        run on one thread); block_size (the fixed summation block); compiler, compile_args,
        variant_flags (each target's extra flags), link_args, cython_directives (how the
        extension was built); python.

    Examples
    --------
    >>> import cbce
    >>> config = cbce.show_config(print_=False)
    >>> config["version"] == cbce.__version__
    True
    >>> from threadpoolctl import threadpool_limits
    >>> with threadpool_limits(1):
    ...     cbce.show_config(print_=False)["default_n_threads"]
    1
    """
    from cbce import __version__

    info = {
        "version": __version__,
        "kernel_variant": _kernels.VARIANT,
        "kernel_variants": [k for k, ok in _dispatch.available().items() if ok],
        "kernel_variants_built": list(_kernels.TARGETS),
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
