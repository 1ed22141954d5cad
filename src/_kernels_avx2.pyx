# cython: language_level=3
"""cbce kernels, avx2 build (see src/_kernels_impl.pxi)."""
include "_kernels_impl.pxi"
include "_multiclass_impl.pxi"
