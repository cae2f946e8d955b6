"""LLDP (IEEE 802.1AB-2016) identity dissector: shape FRAME, ethertype 0x88cc.

Input: the frame bytes **right after the ethertype** (the first byte is the Chassis ID TLV header).
The capture engine (``capture/sink.py``) hands frames starting *at* the ethertype (``88 cc`` first),
and :meth:`LldpDissector.dissect` accepts that too, as well as a whole Ethernet II frame (offset 12);
the offset is found by looking for the mandatory first TLV (Chassis ID, type 1 → first byte ``0x02``,
802.1AB §8.5.2). Trailing padding/FCS after the End Of LLDPDU TLV is ignored.

Kinds emitted (all about the sender, ``ctx.src_mac``):

* ``lldp.chassis_id`` (MAC subtype as MAC text, network address as IP text, else text),
  ``lldp.port_id``, ``lldp.port_description``, ``lldp.ttl`` (seconds)
* ``lldp.system_name``, ``lldp.system_description``
* ``lldp.capabilities`` (system capabilities as names, comma-joined: ``bridge,router``),
  ``lldp.capabilities_enabled``
* ``lldp.mgmt_address`` (IPv4/IPv6 text, or MAC text for the 802 family)
* ``lldp.vlan`` (IEEE 802.1 Port VLAN ID, 802.1Q-2014 Annex D.2.1)
* ``lldp.med.hardware_revision``, ``.firmware_revision``, ``.software_revision``, ``.serial_number``,
  ``.manufacturer``, ``.model``, ``.asset_id`` (ANSI/TIA-1057 §10.2.6 inventory TLVs)
* ``lldp.mud_url`` (RFC 8520 §11: OUI 00-00-5E, subtype 1)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.text import Emitter, clean, mac_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

ETHERTYPE = 0x88CC

# 802.1AB §8.4 TLV type values.
END, CHASSIS_ID, PORT_ID, TTL, PORT_DESC, SYS_NAME, SYS_DESC, SYS_CAPS, MGMT_ADDR = range(9)
ORG_SPECIFIC = 127

#: 802.1AB Table 8-4, system capabilities bit → name.
CAPABILITY_NAMES = (
    "other", "repeater", "bridge", "wlan-ap", "router", "telephone", "docsis", "station",
    "c-vlan", "s-vlan", "tpmr",
)

#: IANA Address Family Numbers used by the Chassis ID / Port ID / Management Address TLVs.
AF_IPV4, AF_IPV6, AF_802 = 1, 2, 6

OUI_IEEE_8021 = b"\x00\x80\xc2"
OUI_TIA_MED = b"\x00\x12\xbb"
OUI_IANA = b"\x00\x00\x5e"

#: ANSI/TIA-1057 §10.2.6 inventory TLV subtypes → kind suffix.
MED_INVENTORY = {
    5: "hardware_revision",
    6: "firmware_revision",
    7: "software_revision",
    8: "serial_number",
    9: "manufacturer",
    10: "model",
    11: "asset_id",
}


def capability_names(bits: int) -> str:
    """Comma-joined names of the set capability bits (802.1AB Table 8-4)."""
    return ",".join(name for i, name in enumerate(CAPABILITY_NAMES) if bits & (1 << i))


def _address(family: int, raw: bytes) -> str:
    """Text of an address given its IANA family number."""
    if family == AF_IPV4 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if family == AF_IPV6 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    if family == AF_802 and len(raw) == 6:
        return mac_text(raw)
    return raw.hex()


def _id_value(subtype: int, raw: bytes, mac_subtype: int, addr_subtype: int) -> str:
    """Chassis/Port ID value: MAC text, network address text, or cleaned text."""
    if subtype == mac_subtype and len(raw) == 6:
        return mac_text(raw)
    if subtype == addr_subtype and raw:
        return _address(raw[0], raw[1:])
    return clean(raw)


def start_offset(data: bytes) -> int | None:
    """Where the LLDPDU begins in ``data`` (0, 2 or 14), or ``None`` when it is not LLDP."""
    if data[:1] == b"\x02":
        return 0
    if data[:3] == b"\x88\xcc\x02":
        return 2
    if data[12:15] == b"\x88\xcc\x02":
        return 14
    return None


def iter_tlvs(data: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    """(type, value) of each TLV up to End Of LLDPDU (802.1AB §8.4: 7-bit type, 9-bit length)."""
    pos = offset
    while pos + 2 <= len(data):
        header = int.from_bytes(data[pos : pos + 2], "big")
        tlv_type, length = header >> 9, header & 0x1FF
        pos += 2
        if tlv_type == END:
            return
        if pos + length > len(data):
            raise ParseError(f"LLDP TLV type {tlv_type} overruns the frame")
        yield tlv_type, data[pos : pos + length]
        pos += length


class LldpDissector:
    """LLDPDU → identity Observations about the sending port's device."""

    name: ClassVar[str] = "lldp"
    shape: ClassVar[InputShape] = InputShape.FRAME
    ports: ClassVar[frozenset[int]] = frozenset({ETHERTYPE})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """True for a frame of ethertype 0x88cc whose first TLV is a Chassis ID.

        A bare ``0x02`` first byte is too weak alone (CDPv2 starts the same way), so offset 0 needs
        ``ctx.dst_port`` (the ethertype) to say LLDP; the other offsets carry the ethertype themselves.
        """
        offset = start_offset(data)
        if offset == 0:
            return ctx.dst_port == ETHERTYPE
        return offset is not None

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the identity facts of one LLDPDU; ParseError on a malformed TLV chain."""
        offset = start_offset(client)
        if offset is None:
            raise ParseError("not an LLDPDU: the first TLV is not a Chassis ID")
        out = Emitter(ctx)
        for tlv_type, value in iter_tlvs(client, offset):
            self._tlv(out, tlv_type, value)
        yield from out

    def _tlv(self, out: Emitter, tlv_type: int, value: bytes) -> None:
        if tlv_type == CHASSIS_ID and value:
            # 802.1AB Table 8-2: subtype 4 MAC address, 5 network address.
            out.emit("lldp.chassis_id", _id_value(value[0], value[1:], 4, 5))
        elif tlv_type == PORT_ID and value:
            # 802.1AB Table 8-3: subtype 3 MAC address, 4 network address.
            out.emit("lldp.port_id", _id_value(value[0], value[1:], 3, 4))
        elif tlv_type == TTL and len(value) >= 2:
            out.emit("lldp.ttl", str(int.from_bytes(value[:2], "big")))
        elif tlv_type == PORT_DESC:
            out.emit("lldp.port_description", clean(value))
        elif tlv_type == SYS_NAME:
            out.emit("lldp.system_name", clean(value))
        elif tlv_type == SYS_DESC:
            out.emit("lldp.system_description", clean(value))
        elif tlv_type == SYS_CAPS and len(value) >= 4:
            # 802.1AB §8.5.8: 2 octets system capabilities, 2 octets enabled capabilities.
            out.emit("lldp.capabilities", capability_names(int.from_bytes(value[:2], "big")))
            out.emit("lldp.capabilities_enabled", capability_names(int.from_bytes(value[2:4], "big")))
        elif tlv_type == MGMT_ADDR and len(value) >= 2:
            # 802.1AB §8.5.9: address string length (subtype + address), subtype, address, ...
            str_len = value[0]
            if 2 <= str_len <= 32 and len(value) >= 1 + str_len:
                out.emit("lldp.mgmt_address", _address(value[1], value[2 : 1 + str_len]))
        elif tlv_type == ORG_SPECIFIC and len(value) >= 4:
            self._org(out, value[:3], value[3], value[4:])

    def _org(self, out: Emitter, oui: bytes, subtype: int, info: bytes) -> None:
        if oui == OUI_IEEE_8021 and subtype == 1 and len(info) >= 2:
            vlan = int.from_bytes(info[:2], "big")  # 802.1Q Annex D.2.1 Port VLAN ID; 0 = none
            if vlan:
                out.emit("lldp.vlan", str(vlan))
        elif oui == OUI_TIA_MED and subtype in MED_INVENTORY:
            out.emit(f"lldp.med.{MED_INVENTORY[subtype]}", clean(info))
        elif oui == OUI_IANA and subtype == 1:
            out.emit("lldp.mud_url", clean(info))


DISSECTOR = LldpDissector()
