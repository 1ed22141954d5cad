"""Build: pip install --no-build-isolation . (or python setup.py build_ext --inplace), with cbce
installed. Only cbce.get_include() is needed: the C API is reached through a capsule at run time
(import_cbce() in the module's init), so nothing links against cbce."""
import cbce
from setuptools import Extension, setup

setup(
    name="cbce-c-consumer",
    version="0.1.0",
    ext_modules=[Extension("cbce_c_consumer", ["cbce_c_consumer.c"],
                           include_dirs=[cbce.get_include()])],
)
