"""Build of the one C extension; everything else about the package is in pyproject.toml.

The extensions hold the few hot-path loops that are too slow in Python: ``wardwatch.capture._kernels``
(capture-file record walks) and ``wardwatch.dissect._wire._dnsfast`` (the plain DNS query). Each is
optional: where no C compiler is available the install still succeeds and the portable Python reference
of the same functions runs instead (slower, same results; tests compare the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "wardwatch.capture._kernels",
            sources=["src/wardwatch/capture/_kernels.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "wardwatch._fastobj",
            sources=["src/wardwatch/_fastobj.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "wardwatch.dissect._wire._dnsfast",
            sources=["src/wardwatch/dissect/_wire/_dnsfast.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "wardwatch.capture._flowkernel",
            sources=["src/wardwatch/capture/_flowkernel.c", "src/wardwatch/capture/_flowindex.c"],
            depends=["src/wardwatch/capture/_flowkernel.h"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
