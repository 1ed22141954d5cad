# cython: language_level=3
"""cbce's compiled core: engine, entry points, C API, fast path (src/_kernels_impl.pxi) and the
softmax engine (src/_multiclass_impl.pxi), compiled once; the element loops come from the loop
table of one CPU target (src/loops/table.h), picked at import by cbce/_dispatch.py."""
include "_kernels_impl.pxi"
include "_multiclass_impl.pxi"
