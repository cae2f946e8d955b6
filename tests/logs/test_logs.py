"""Zeek and Suricata logs into Observations (issue 8, must show 2)."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import require_shared

from wardwatch.logs import eve, zeek
from wardwatch.logs.follow import Follower
from wardwatch.logs.records import ReadStats, json_records, parse_ts, zeek_tsv_records
from wardwatch.logs.source import read_logs


def _facts(paths: list[Path]) -> set[tuple[str | None, str | None, str, str]]:
    return {(o.mac, o.ip, o.kind, o.value) for o in read_logs(paths).observations}


def test_masked_timestamps_do_not_break_the_reader() -> None:
    log = require_shared("zeek-logs", "scripts.base.protocols.dhcp.dhcp-all-msg-types__dhcp.log")
    result = read_logs([log])
    assert result.stats.skipped == 0 and result.stats.records == 3
    facts = _facts([log])
    assert ("90:b1:1c:99:49:29", "128.2.6.189", "dhcp.hostname", "btest.is.cool") in facts
    assert all(o.ts == 0.0 for o in result.observations)


def test_zeek_tsv_and_json_give_the_same_kinds() -> None:
    tsv = require_shared("zeek-logs", "external", "zed-sample-data", "zeek-default", "software.log")
    js = require_shared("zeek-logs", "external", "zed-sample-data", "zeek-json", "software.json")
    tsv_kinds = {(o.ip, o.kind, o.value) for o in read_logs([tsv]).observations}
    json_kinds = {(o.ip, o.kind, o.value) for o in read_logs([js]).observations}
    assert tsv_kinds and json_kinds
    assert len(tsv_kinds & json_kinds) >= min(len(tsv_kinds), len(json_kinds)) // 2


def test_ssl_and_x509_join_gives_the_server_certificate() -> None:
    ssl = require_shared("zeek-logs", "scripts.base.protocols.ssl.tls-1.2__ssl.log")
    x509 = require_shared("zeek-logs", "scripts.base.protocols.ssl.tls-1.2__x509.log")
    facts = _facts([ssl, x509])
    assert ("68.233.76.12" in {ip for _, ip, kind, _ in facts if kind == "tls.cert_subject"})
    assert (None, "68.233.76.12", "tls.version", "TLS 1.2") in facts


def test_conn_log_with_mac_logging_ties_macs_to_addresses() -> None:
    conn = require_shared("zeek-logs", "scripts.policy.protocols.conn.mac-logging__conn1.log")
    result = read_logs([conn])
    assert result.flows
    assert (("00:24:7e:e0:1d:b5", "141.142.220.118", "net.ip", "141.142.220.118")
            in {(o.mac, o.ip, o.kind, o.value) for o in result.observations})


def test_suricata_pretty_printed_and_ndjson_agree() -> None:
    pretty = require_shared("suricata-eve", "tenzir-library", "original")
    ndjson = require_shared("suricata-eve", "tenzir-library", "ndjson-derived")
    a, b = read_logs([pretty]), read_logs([ndjson])
    assert a.stats.skipped == 0 and b.stats.skipped == 0
    assert a.stats.records == b.stats.records > 100
    assert {(o.ip, o.kind, o.value) for o in a.observations} == {(o.ip, o.kind, o.value) for o in b.observations}


def test_suricata_identity_facts() -> None:
    folder = require_shared("suricata-eve", "tenzir-library", "ndjson-derived")
    facts = _facts([folder])
    assert (None, "192.168.1.104", "http.user_agent", "Windows-Update-Agent") in facts
    assert ("00:0b:db:63:58:a6", "192.168.1.102", "dhcp.assigned_ip", "192.168.1.102") in facts
    assert any(kind == "smb.v1" for _, _, kind, _ in facts)
    assert any(kind == "tls.cert_subject" and "Microsoft" in value for _, _, kind, value in facts)
    flows = read_logs([folder / "flow.ndjson"]).flows
    assert len(flows) == 10


def test_every_shared_log_reads_with_counted_skips_only() -> None:
    zeek = require_shared("zeek-logs")
    eve = require_shared("suricata-eve")
    result = read_logs([zeek, eve])
    assert result.files > 200
    assert result.stats.records > 20_000
    assert result.stats.skipped <= 2


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_readers_never_raise_on_garbage(text: str) -> None:
    stats = ReadStats()
    list(zeek_tsv_records(io.StringIO(text), stats))
    list(json_records(io.StringIO(text), stats))
    assert stats.records >= 0
    parse_ts(text)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=3), max_leaves=8)
_EVE_KEYS = ["src_ip", "dest_ip", "src_port", "dest_port", "proto", "app_proto", "ether", "timestamp", *eve.MAPPERS]
_ZEEK_KEYS = ["id", "id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "proto", "orig_pkts", "resp_pkts",
              "duration", "mac", "answers", "orig_l2_addr", "resp_l2_addr", "ts"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(eve.MAPPERS)), st.dictionaries(st.sampled_from(_EVE_KEYS), _JSON, max_size=8),
       st.sampled_from(sorted(zeek.MAPPERS)), st.dictionaries(st.sampled_from(_ZEEK_KEYS), _JSON, max_size=8))
def test_record_mappers_never_raise_on_odd_field_types(event_type: str, fields: dict[str, object],
                                                       path: str, record: dict[str, object]) -> None:
    """A record of the right shape but with fields of any JSON type is mapped or ignored, never fatal."""
    eve_record = {**fields, "event_type": event_type, "src_ip": "10.0.0.1", "dest_ip": "10.0.0.2"}
    for _ in eve.eve_observations(eve_record, "s"):
        pass
    eve.eve_flow({**eve_record, "event_type": "flow", "proto": "TCP"}, "s")
    zeek_record = {"id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2", "proto": "tcp", **record}
    for _ in zeek.MAPPERS[path](zeek_record, "s"):
        pass
    zeek.conn_flow(zeek_record, "s")


def test_follower_sees_appended_lines_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    follower = Follower(log)
    assert follower.poll() == []
    log.write_text('{"a": 1}\n{"b"')
    assert follower.poll() == ['{"a": 1}\n']
    with log.open("a") as handle:
        handle.write(': 2}\n')
    assert follower.poll() == ['{"b": 2}\n']
    assert follower.poll() == []
    log.write_text('{"c": 3}\n')  # truncated and rewritten
    assert follower.poll() == ['{"c": 3}\n']
    rotated = tmp_path / "eve.json.1"
    log.rename(rotated)
    log.write_text('{"d": 4}\n')
    assert follower.poll() == ['{"d": 4}\n']
