"""Build: pip install --no-build-isolation . (or python setup.py build_ext --inplace), with cbce
and Cython installed. cbce.get_include() holds cbce.h and cbce_math.h; Cython finds
cbce/capi.pxd on sys.path, in the installed cbce package. numpy.get_include() is not needed (the
module uses typed memoryviews, not numpy's C API); a module with its own prange adds -fopenmp to
extra_compile_args and extra_link_args."""
import cbce
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    name="cbce-cython-consumer",
    version="0.1.0",
    ext_modules=cythonize(
        [Extension("cbce_cython_consumer", ["cbce_cython_consumer.pyx"],
                   include_dirs=[cbce.get_include()])],
        compiler_directives={"language_level": 3},
    ),
)
