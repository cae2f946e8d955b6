"""A TCP port answered with nothing but resets was refused (RFC 9293 §3.10.7.1): the flow record says so on
both flow-table paths, the responder gets no ``net.service`` for it, the inventory keeps the flag (AND over
the attempts a row stands for), and Zeek's ``conn_state`` REJ and Suricata's reset-only ``tcp_flags_tc``
mean the same (flow record and observations)."""

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
from wardwatch.logs import eve
from wardwatch.logs.zeek import conn, conn_flow
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
    services = {o.value for o in conn(record, "zeek") if o.kind == "net.service"}
    assert services == set()  # the reset shows the host, not a service
    assert {o.value for o in conn({**record, "conn_state": "SF"}, "zeek") if o.kind == "net.service"} == {"tcp/23"}


def _eve_flow(flags_tc: str, *, proto: str = "TCP", to_client: int = 1) -> dict[str, object]:
    """A Suricata EVE flow record (the shape of Suricata 7's eve.json) of one attempt on port 23."""
    return {"timestamp": "2026-11-28T10:00:00.000000+0000", "event_type": "flow", "src_ip": CLIENT,
            "src_port": 40023, "dest_ip": SERVER, "dest_port": 23, "proto": proto,
            "flow": {"pkts_toserver": 1, "pkts_toclient": to_client, "bytes_toserver": 74,
                     "bytes_toclient": 60 * to_client, "start": "2026-11-28T10:00:00.000000+0000",
                     "end": "2026-11-28T10:00:00.000100+0000", "state": "closed", "reason": "timeout"},
            "tcp": {"tcp_flags": "16", "tcp_flags_ts": "02", "tcp_flags_tc": flags_tc, "state": "closed"}}


def test_suricata_reset_only_answers_are_refused() -> None:
    cases = {"14": True, "04": True, "12": False, "1b": False, "00": False, "zz": False}
    for flags_tc, refused in cases.items():
        record = _eve_flow(flags_tc)
        flow = eve.eve_flow(record, "suricata")
        assert flow is not None and flow.refused is refused, flags_tc
        services = {o.value for o in eve.eve_observations(record, "suricata") if o.kind == "net.service"}
        assert services == (set() if refused else {"tcp/23"}), flags_tc
    unanswered = eve.eve_flow(_eve_flow("00", to_client=0), "suricata")
    assert unanswered is not None and not unanswered.refused
    udp = eve.eve_flow(_eve_flow("14", proto="UDP"), "suricata")
    assert udp is not None and not udp.refused
