"""The link-layer view of a batch: where each network header starts, its type, VLAN and MAC addresses.

For callers that need no more than the link header (live capture sizes cut packets by it). The decoding
itself is :func:`wardwatch.capture.decode.link_walk` (in C where built), the code the full packet walk uses,
where the supported link types and their standards are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wardwatch.capture.decode import ETH_CDP, ETH_IPV4, ETH_IPV6, fast_link_walk
from wardwatch.capture.gather import I64, Gatherer
from wardwatch.capture.kernels import as_i64

__all__ = ["ETH_CDP", "ETH_IPV4", "ETH_IPV6", "LinkInfo", "decode_link"]


@dataclass
class LinkInfo:
    """Per packet: network header offset, ethertype (-1 unknown), VLAN id (-1), MACs (-1), L2 payload."""

    l3: I64  # absolute offset of the network header
    etype: I64
    vlan: I64
    smac: I64
    dmac: I64
    ftype: I64  # the raw type/length field (an ethertype, or the IEEE 802.3 length of an LLC frame)
    supported: npt.NDArray[np.bool_]


def decode_link(g: Gatherer, off: I64, caplen: I64, link: I64) -> LinkInfo:
    """Decode the link header of every packet (any mix of link types)."""
    n = off.shape[0]
    out = np.empty((6, n), dtype=np.int64)
    supported = np.empty(n, dtype=np.bool_)
    fast_link_walk(g.raw, as_i64(off), as_i64(caplen), as_i64(link), out, supported)
    return LinkInfo(l3=out[0], etype=out[1], vlan=out[2], smac=out[3], dmac=out[4], ftype=out[5],
                    supported=supported)
