"""Which record walks run: the C extension ``capture._kernels``, or their Python reference (``kernels``).

The choice (and ``WARDWATCH_PURE_PYTHON_KERNELS``) is :func:`wardwatch.native.extension`'s; the header
walk (``decode``) and the flow table (``flowpath``) choose their extensions the same way.
"""

from __future__ import annotations

from wardwatch.capture import kernels as reference
from wardwatch.native import extension

_walks = extension("wardwatch.capture._kernels")
#: True when the compiled record walks are in use.
COMPILED = _walks is not None

pcap_walk = reference.pcap_walk if _walks is None else _walks.pcap_walk
pcapng_epb_walk = reference.pcapng_epb_walk if _walks is None else _walks.pcapng_epb_walk
slices = reference.slices if _walks is None else _walks.slices
