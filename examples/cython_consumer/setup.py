"""Build: pip install --no-build-isolation . (or python setup.py build_ext --inplace), with cbce,
numpy and Cython installed. cbce.get_include() holds cbce.h and cbce_math.h; Cython finds
cbce/capi.pxd on sys.path, in the installed cbce package."""
import cbce
import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    name="cbce-cython-consumer",
    version="0.1.0",
    ext_modules=cythonize(
        [Extension("cbce_cython_consumer", ["cbce_cython_consumer.pyx"],
                   include_dirs=[cbce.get_include(), np.get_include()])],
        compiler_directives={"language_level": 3},
    ),
)
