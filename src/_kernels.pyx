# cython: language_level=3
"""cbce kernels, baseline build (see src/_kernels_impl.pxi)."""
include "_kernels_impl.pxi"
include "_multiclass_impl.pxi"
