"""A TCP port answered with nothing but resets was refused (RFC 9293 §3.10.7.1): the flow record says so on
both flow-table paths, the responder gets no ``net.service`` for it, the inventory keeps the flag (AND over
the attempts a row stands for), and Zeek's ``conn_state`` REJ means the same."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from tests.capture.builders import MAC_A, MAC_B, eth, ip4, pcap, tcp

from wardwatch.capture import NullSink, process_capture
from wardwatch.domain.flow import FlowRecord
from wardwatch.inventory.repository import Inventory
from wardwatch.logs.zeek import conn_flow
from wardwatch.pipeline.endpoints import flow_observations

SYN, ACK, RST, PSH = 0x02, 0x10, 0x04, 0x08
CLIENT, SERVER = "10.0.0.5", "10.0.0.9"


def scanned(path: Path) -> list[FlowRecord]:
    """A client tries port 23 (closed: RST+ACK) and port 104 (open: SYN+ACK, then data)."""
    def out(port: int, seq: int, flags: int, data: bytes = b"") -> bytes:
        return eth(ip4(CLIENT, SERVER, tcp(40000 + port, port, seq, flags, data), 6))

    def back(port: int, seq: int, flags: int, data: bytes = b"") -> bytes:
        return eth(ip4(SERVER, CLIENT, tcp(port, 40000 + port, seq, flags, data), 6), src=MAC_B, dst=MAC_A)

    frames = [out(23, 100, SYN), back(23, 0, RST | ACK),
              out(104, 500, SYN), back(104, 900, SYN | ACK), out(104, 501, ACK), out(104, 501, PSH | ACK, b"x" * 20),
              back(104, 901, PSH | ACK, b"y" * 20)]
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(frames)]))
    return sorted(process_capture(path, NullSink()).flows, key=lambda f: f.dst_port)


def test_a_port_answered_only_with_resets_is_refused(tmp_path: Path) -> None:
    closed, opened = scanned(tmp_path / "scan.pcap")
    assert (closed.dst_port, closed.refused, closed.packets_rev) == (23, True, 1)
    assert (opened.dst_port, opened.refused) == (104, False)
    services = {o.value for o in flow_observations([closed, opened], set(), "t") if o.kind == "net.service"}
    assert services == {"tcp/104"}  # the refused port is no service; the server's address is still seen
    seen = {(o.kind, o.ip) for o in flow_observations([closed], set(), "t")}
    assert ("net.ip", SERVER) in seen


def test_both_flow_table_paths_agree_on_refusal(tmp_path: Path) -> None:
    path = tmp_path / "scan.pcap"
    compiled = [(f.dst_port, f.refused) for f in scanned(path)]
    code = ("import sys; from pathlib import Path; from wardwatch.capture import NullSink, process_capture; "
            "print(sorted((f.dst_port, f.refused) for f in process_capture(Path(sys.argv[1]), NullSink()).flows))")
    env = {**os.environ, "WARDWATCH_PURE_PYTHON_KERNELS": "1"}
    reference = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                               check=True, timeout=120).stdout.strip()
    assert reference == str(sorted(compiled)) == "[(23, True), (104, False)]"


def test_the_inventory_keeps_refusal_until_an_attempt_is_answered(database_url: str, tmp_path: Path) -> None:
    closed, opened = scanned(tmp_path / "scan.pcap")
    inventory = Inventory.open(database_url)
    try:
        inventory.ingest([], [closed, opened])
        stored = {f.dst_port: f.refused for f in inventory.flows()}
        assert stored == {23: True, 104: False}
        inventory.ingest([], [closed])  # the same refused attempt again: still refused
        assert {f.dst_port: f.refused for f in inventory.flows()}[23] is True
        answered = dataclasses.replace(closed, refused=False, first_seen=closed.first_seen + 60,
                                       last_seen=closed.last_seen + 60)
        inventory.ingest([], [answered])  # a later attempt in the same hour was answered
        assert {f.dst_port: f.refused for f in inventory.flows()}[23] is False
    finally:
        inventory.close()


def test_zeek_rejected_connections_are_refused() -> None:
    record = {"ts": 100.0, "id.orig_h": CLIENT, "id.orig_p": 40023, "id.resp_h": SERVER, "id.resp_p": 23,
              "proto": "tcp", "conn_state": "REJ", "orig_pkts": 1, "resp_pkts": 1}
    rejected = conn_flow(record, "zeek")
    accepted = conn_flow({**record, "conn_state": "SF"}, "zeek")
    assert rejected is not None and rejected.refused
    assert accepted is not None and not accepted.refused
