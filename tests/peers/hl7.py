"""A real HL7 v2 MLLP conversation on loopback, captured: python-hl7's ``MLLPClient`` sends ADT^A01 and
ORU^R01 (IHE PCD-01 style, with PRT device and OBX-18 equipment segments) to a small threaded MLLP
server that answers each message with an ACK built by python-hl7 (``Message.create_ack``).

The messages carry the distinctive patient data of :data:`tests.peers.dicom.PHI` (name, MRN, birth
date) in PID, NTE and OBX-5, so tests can assert that none of it comes out of wardwatch.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hl7
from hl7.client import MLLPClient

from tests.peers.capture import capture, free_port
from tests.peers.dicom import CLIENT_IP, PHI, SERVER_IP

SB, EB = b"\x0b", b"\x1c\x0d"
#: What the ORU's device segments say (the values tests expect).
PUMP = {
    "sending_application": "INFUSION_GW^0123456789ABCDEF^EUI-64",
    "gateway_eui64": "01:23:45:67:89:ab:cd:ef",
    "device_id": "PUMP-7731^ACME_INFUSION^1.2.3.4.5^ISO",
    "udi": "(01)00812345678901(21)SN7731",
    "serial": "SN7731",
    "device_type": "69986^MDC_DEV_PUMP_INFUS_VMD^MDC",
    "equipment_id": "0A1B2C3D4E5F6071^EUI-64^EUI-64",
    "equipment_eui64": "0a:1b:2c:3d:4e:5f:60:71",
}


def _segment(name: str, fields: dict[int, str], sep: str = "|") -> str:
    """A segment with ``fields`` at their HL7 positions (so nobody has to count bars)."""
    last = max(fields)
    return sep.join([name, *(fields.get(i, "") for i in range(1, last + 1))])


def adt_a01() -> str:
    """An ADT^A01 admission from a hospital ADT system, full of patient data."""
    return "\r".join([
        "MSH|^~\\&|ADT_SYS|GENERAL_HOSP|MONITOR_GW|ICU|20261128120000||ADT^A01^ADT_A01|MSG0001|P|2.5.1",
        "EVN|A01|20261128120000",
        f"PID|1||{PHI['mrn']}^^^HOSP^MR||{PHI['name']}||{PHI['birth_date']}|F|||12 Windmill Rd^^La Mancha",
        f"NK1|1|{PHI['name']}|SPO",
        "PV1|1|I|ICU^101^A",
    ])


def oru_r01() -> str:
    """An ORU^R01 from an infusion-pump gateway (IHE PCD-01 shape, v2.8) with PRT and OBX-18."""
    prt = _segment("PRT", {1: "1", 2: "UC", 4: "EQUIP^Equipment^HL70912", 5: f"{PHI['name']}",
                           9: "ICU^101^A", 10: PUMP["device_id"], 16: PUMP["udi"], 20: PUMP["serial"],
                           22: PUMP["device_type"]})
    obx1 = _segment("OBX", {1: "1", 2: "NM", 3: "157784^MDC_FLOW_FLUID_PUMP^MDC", 4: "1.1.1.1", 5: "25",
                            6: "263762^MDC_DIM_MILLI_L_PER_HR^MDC", 11: "F", 14: "20261128120400",
                            18: PUMP["equipment_id"]})
    obx2 = _segment("OBX", {1: "2", 2: "ST", 3: "0^MDC_ATTR_NOTE^MDC", 5: f"{PHI['name']} {PHI['mrn']}",
                            11: "F", 18: PUMP["equipment_id"]})
    return "\r".join([
        f"MSH|^~\\&|{PUMP['sending_application']}|ICU_PUMPS|EMR_INBOUND|GENERAL_HOSP|20261128120500||"
        "ORU^R01^ORU_R01|MSG0002|P|2.8|||AL|NE||UNICODE UTF-8",
        f"PID|1||{PHI['mrn']}^^^HOSP^MR||{PHI['name']}||{PHI['birth_date']}|F",
        "PV1|1|I|ICU^101^A",
        "OBR|1|ORD1|FIL1|69837^MDC_DEV_PUMP_INFUS_MDS^MDC|||20261128120400",
        obx1, prt, obx2,
        f"NTE|1||Patient {PHI['name']} born {PHI['birth_date']}",
    ])


class _Handler(socketserver.BaseRequestHandler):
    """Reads MLLP frames and answers each with python-hl7's ACK (AA)."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
            while SB in buf and EB in buf:
                start = buf.index(SB)
                end = buf.index(EB, start)
                message = hl7.parse(buf[start + 1 : end].decode("utf-8"))
                buf = buf[end + len(EB) :]
                ack = message.create_ack(application="EMR_INBOUND", facility="GENERAL_HOSP")
                sock.sendall(SB + str(ack).encode("utf-8") + EB)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


@contextmanager
def mllp_server(port: int) -> Iterator[_Server]:
    """A threaded MLLP server on SERVER_IP:``port`` until the block ends."""
    server = _Server((SERVER_IP, port), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Hl7Capture:
    """The pcap, the server port, and the ACKs the client received (proof the exchange happened)."""

    pcap: Path
    port: int
    acks: list[str]


def capture_mllp(tmp: Path) -> Hl7Capture:
    """python-hl7 ``MLLPClient`` sends ADT^A01 then ORU^R01 on one connection; both are ACKed."""
    port = free_port()
    pcap = tmp / "hl7-mllp.pcap"
    acks: list[str] = []
    with mllp_server(port), capture(pcap, f"tcp port {port}"), MLLPClient(SERVER_IP, port) as client:
        for message in (adt_a01(), oru_r01()):
            acks.append(client.send_message(message).decode("utf-8"))
    assert CLIENT_IP  # clients connect from 127.0.0.1 (see tests.peers.dicom)
    return Hl7Capture(pcap, port, acks)
