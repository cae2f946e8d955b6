"""Build of the C extensions; everything else about the package is in pyproject.toml.

The extensions hold the few hot-path loops that are too slow in Python, one job each:

* ``wardwatch.capture._kernels``: capture-file record walks (pcap records, pcapng packet blocks);
* ``wardwatch.capture._decode``: link, network and transport headers of a batch of packets;
* ``wardwatch.capture._flowkernel``: the flow table's per-packet accounting and its index;
* ``wardwatch.capture._reassembly``: TCP segment placement into the per-flow stream buffers;
* ``wardwatch.capture._naming``: the flow table's per-flow texts, sink slots and flow records;
* ``wardwatch.dissect._wire._dnsfast``: the plain DNS query;
* ``wardwatch._fastobj``: construction of the slotted dataclasses made per fact and per flow.

Each is optional: where no C compiler is available the install still succeeds and the Python reference
of the same functions runs instead (slower, same results; tests compare the two, and
``WARDWATCH_PURE_PYTHON_KERNELS=1`` forces the references).
"""

from setuptools import Extension, setup


def _extension(name: str, *sources: str, depends: tuple[str, ...] = ()) -> Extension:
    return Extension(name, sources=[f"src/{s}" for s in sources], depends=[f"src/{d}" for d in depends],
                     extra_compile_args=["-O2"], optional=True)


setup(
    ext_modules=[
        _extension("wardwatch.capture._kernels", "wardwatch/capture/_kernels.c"),
        _extension("wardwatch.capture._decode", "wardwatch/capture/_decode.c"),
        _extension("wardwatch.capture._flowkernel", "wardwatch/capture/_flowkernel.c",
                   "wardwatch/capture/_flowindex.c",
                   depends=("wardwatch/capture/_flowkernel.h", "wardwatch/capture/_cshared.h")),
        _extension("wardwatch.capture._reassembly", "wardwatch/capture/_reassembly.c"),
        _extension("wardwatch.capture._naming", "wardwatch/capture/_naming.c",
                   depends=("wardwatch/capture/_cshared.h",)),
        _extension("wardwatch.dissect._wire._dnsfast", "wardwatch/dissect/_wire/_dnsfast.c"),
        _extension("wardwatch._fastobj", "wardwatch/_fastobj.c"),
    ]
)
