"""Crafted captures for the detection rule tests: a small hospital's normal day, and its variations.

:class:`Scene` writes Ethernet/IPv4 packets with dpkt: whole TCP connections (handshake, payload in
both directions, FIN exchange) and UDP datagrams. Payloads are real protocol bytes: DICOM
A-ASSOCIATE-RQ encoded by pynetdicom, HL7 v2 in MLLP framing, DNS queries by dpkt, Telnet option
negotiation, FTP USER/PASS, HTTP Basic auth, an SNMPv2c GetRequest (BER written out below).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

#: 2026-11-02 09:00:00 UTC: the normal day's traffic happens between 09:00 and 10:00 UTC.
DAY9 = 1_793_610_000.0
MODALITY, PACS, MONITOR, ENGINE, DNS = "10.1.1.10", "10.1.2.20", "10.1.3.30", "10.1.4.40", "10.1.0.53"
ATTACKER = "10.1.9.99"
MACS = {MODALITY: "02:00:00:01:01:10", PACS: "02:00:00:01:02:20", MONITOR: "02:00:00:01:03:30",
        ENGINE: "02:00:00:01:04:40", DNS: "02:00:00:01:00:53", ATTACKER: "02:00:00:01:09:99"}
ROUTER_MAC = "02:00:00:00:00:01"


def associate_rq(calling: str, called: str = "PACS") -> bytes:
    """A DICOM A-ASSOCIATE-RQ (PS3.8 §9.3.2) proposing CT Image Storage, encoded by pynetdicom."""
    from pynetdicom.pdu import A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification
    from pynetdicom.presentation import build_context
    from pynetdicom.transport import AddressInformation

    primitive = A_ASSOCIATE()
    primitive.calling_ae_title = calling
    primitive.called_ae_title = called
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_presentation_address = AddressInformation("10.0.0.1", 40000)
    primitive.called_presentation_address = AddressInformation("10.0.0.2", 104)
    context = build_context("1.2.840.10008.5.1.4.1.1.2")
    context.context_id = 1
    primitive.presentation_context_definition_list = [context]
    max_len = MaximumLengthNotification()
    max_len.maximum_length_received = 16384
    primitive.user_information = [max_len]
    rq = A_ASSOCIATE_RQ()
    rq.from_primitive(primitive)
    return bytes(rq.encode())


def hl7_message(sender: str) -> bytes:
    """An ORU^R01 observation message (no patient fields) in MLLP framing (HL7 v2.x Appendix C)."""
    msh = f"MSH|^~\\&|{sender}|ICU|HIS|HOSP|20261102090000||ORU^R01|MSG0001|P|2.6\r"
    obx = "OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F\r"
    return b"\x0b" + (msh + obx).encode() + b"\x1c\r"


def dns_query(name: str) -> bytes:
    """A recursive A query for ``name``."""
    query = dpkt.dns.DNS(id=0x1234, op=dpkt.dns.DNS_RD, qd=[dpkt.dns.DNS.Q(name=name, type=dpkt.dns.DNS_A)])
    return bytes(query)


#: SNMPv2c GetRequest sysDescr.0 with community "public" (RFC 3416 PDU in RFC 1157 message, BER):
#: 30 29 SEQUENCE | 02 01 01 version=1 (v2c) | 04 06 "public" | a0 1c GetRequest | 02 04 id | 02 01 00
#: error-status | 02 01 00 error-index | 30 0e varbinds | 30 0c | 06 08 1.3.6.1.2.1.1.1.0 | 05 00 NULL
SNMP_GET = bytes.fromhex("302902010104067075626c6963a01c02040000abcd020100020100300e300c06082b060102010101000500")


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


@dataclass
class Scene:
    """Packets in time order, written as one pcap."""

    packets: list[tuple[float, bytes]] = field(default_factory=list)
    port: int = 40000

    def _frame(self, src: str, dst: str, l4: dpkt.Packet, proto: int) -> bytes:
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, ttl=64, data=l4)
        ip.len = len(ip)
        eth = dpkt.ethernet.Ethernet(src=_mac(MACS.get(src, ROUTER_MAC)), dst=_mac(MACS.get(dst, ROUTER_MAC)),
                                     type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
        return bytes(eth)

    def tcp(self, ts: float, client: str, server: str, port: int, request: bytes = b"", response: bytes = b"",
            *, refused: bool = False) -> Scene:
        """One TCP connection (or, ``refused``, a SYN answered by RST)."""
        self.port += 1
        sport = self.port
        seq = {True: 1000, False: 9000}
        t = [ts]

        def send(from_client: bool, flags: int, data: bytes = b"") -> None:
            src, dst = (client, server) if from_client else (server, client)
            s, d = (sport, port) if from_client else (port, sport)
            seg = dpkt.tcp.TCP(sport=s, dport=d, seq=seq[from_client], ack=seq[not from_client], flags=flags,
                               win=65535, data=data)
            self.packets.append((t[0], self._frame(src, dst, seg, dpkt.ip.IP_PROTO_TCP)))
            t[0] += 0.001
            seq[from_client] += len(data) + (1 if flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN) else 0)

        send(True, dpkt.tcp.TH_SYN)
        if refused:
            send(False, dpkt.tcp.TH_RST | dpkt.tcp.TH_ACK)
            return self
        send(False, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK)
        send(True, dpkt.tcp.TH_ACK)
        for off in range(0, len(request), 1400):
            send(True, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, request[off:off + 1400])
        for off in range(0, len(response), 1400):
            send(False, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, response[off:off + 1400])
        send(True, dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)
        send(False, dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)
        send(True, dpkt.tcp.TH_ACK)
        return self

    def udp(self, ts: float, src: str, dst: str, port: int, payload: bytes) -> Scene:
        """One UDP datagram."""
        self.port += 1
        datagram = dpkt.udp.UDP(sport=self.port, dport=port, data=payload)
        datagram.ulen = len(datagram)
        self.packets.append((ts, self._frame(src, dst, datagram, dpkt.ip.IP_PROTO_UDP)))
        return self

    def write(self, path: Path) -> Path:
        """The pcap, packets sorted by time."""
        with path.open("wb") as fh:
            writer = dpkt.pcap.Writer(fh)
            for ts, frame in sorted(self.packets, key=lambda p: p[0]):
                writer.writepkt(frame, ts)
        return path


def normal_day(scene: Scene | None = None) -> Scene:
    """The baseline: DICOM modality → PACS, HL7 monitor → engine, DNS, between 09:00 and 10:00 UTC."""
    scene = scene or Scene()
    for i in range(3):
        scene.tcp(DAY9 + 60 * i, MODALITY, PACS, 104, associate_rq("CT01"))
        scene.tcp(DAY9 + 60 * i + 5, MONITOR, ENGINE, 2575, hl7_message("MONITOR_GW"), b"\x0bMSH|ack\x1c\r")
        scene.udp(DAY9 + 60 * i + 1, MODALITY, DNS, 53, dns_query("pacs.hospital.example"))
    return scene
