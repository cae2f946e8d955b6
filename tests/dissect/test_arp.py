"""ARP dissector: golden request/reply, probes, hostile bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.dissect.arp import DISSECTOR
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=0, src_mac="00:1a:22:05:c4:2e", dst_mac="ff:ff:ff:ff:ff:ff",
                  src_ip=None, dst_ip=None, src_port=0, dst_port=0x0806)
# 08 06 ethertype | 0001 Ethernet | 0800 IPv4 | 06 04 lengths | 0002 reply |
# sender 00:1a:22:05:c4:2e 10.10.10.89 | target 00:b5:6d:06:08:ba 10.10.10.1
REPLY = bytes.fromhex("0806" "0001" "0800" "06" "04" "0002" "001a2205c42e" "0a0a0a59" "00b56d0608ba" "0a0a0a01")


def test_reply_ties_sender_mac_to_ip() -> None:
    assert DISSECTOR.detect(REPLY, CTX)
    (obs,) = DISSECTOR.dissect(CTX, REPLY, b"")
    assert (obs.kind, obs.mac, obs.ip, obs.value) == ("arp.ip", "00:1a:22:05:c4:2e", "10.10.10.89", "10.10.10.89")
    (same,) = DISSECTOR.dissect(CTX, REPLY[2:], b"")  # the form without the ethertype
    assert same == obs


def test_probe_claims_nothing() -> None:
    probe = REPLY[:9] + b"\x01" + REPLY[10:16] + bytes(4) + REPLY[20:]
    assert list(DISSECTOR.dissect(CTX, probe, b"")) == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_refuse(data: bytes) -> None:
    try:
        found = list(DISSECTOR.dissect(CTX, data, b""))
    except ParseError:
        return
    assert all(o.kind == "arp.ip" for o in found)


@pytest.mark.parametrize("cut", range(len(REPLY)))
def test_truncated_replies_are_refused(cut: int) -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, REPLY[:cut], b""))
