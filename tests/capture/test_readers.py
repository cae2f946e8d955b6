"""File formats: pcap byte orders and resolutions, pcapng interfaces, gzip, damaged files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from tests.capture.builders import eth, ip4, pcap, pcapng, udp
from wardwatch.capture import CollectingSink, process_capture
from wardwatch.errors import CaptureError


def _frames(n: int = 3) -> list[tuple[float, bytes]]:
    return [(1700000000.25 + i, eth(ip4("10.0.0.1", "10.0.0.2", udp(5000, 53, b"q%d" % i), 17))) for i in range(n)]


def _write(tmp_path: Path, data: bytes, name: str = "c.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, endian: str, nano: bool) -> None:
    sink = CollectingSink()
    res = process_capture(_write(tmp_path, pcap(_frames(), endian=endian, nano=nano)), sink)
    assert res.stats.packets == 3
    assert [d[1] for d in sink.datagrams] == [b"q0", b"q1", b"q2"]
    assert sink.datagrams[0][0].ts == pytest.approx(1700000000.25, abs=1e-6)
    assert not res.stats.skipped


def test_gzip_capture(tmp_path: Path) -> None:
    res = process_capture(_write(tmp_path, gzip.compress(pcap(_frames())), "c.pcap.gz"), CollectingSink())
    assert res.stats.packets == 3 and not res.stats.truncated_file


def test_truncated_gzip_keeps_what_decompressed(tmp_path: Path) -> None:
    blob = gzip.compress(pcap(_frames(200)))
    res = process_capture(_write(tmp_path, blob[: len(blob) // 2], "c.pcap.gz"), CollectingSink())
    assert res.stats.truncated_file
    assert 0 < res.stats.packets < 200


def test_pcapng_interfaces_with_own_link_type_and_resolution(tmp_path: Path) -> None:
    frame_eth = eth(ip4("10.0.0.1", "10.0.0.2", udp(1, 2, b"eth"), 17))
    frame_raw = bytes(ip4("10.0.0.3", "10.0.0.4", udp(3, 4, b"raw"), 17))
    data = pcapng([(1, None), (101, 9)], [(0, 1_700_000_000_000_000, frame_eth),
                                         (1, 1_700_000_001_000_000_000, frame_raw)],
                  extra_blocks=[struct.pack("<II", 0x0BAD, 16) + b"\0\0\0\0" + struct.pack("<I", 16)])
    sink = CollectingSink()
    res = process_capture(_write(tmp_path, data, "c.pcapng"), sink)
    assert res.stats.packets == 2
    assert [(c.src_ip, c.ts, p) for c, p in sink.datagrams] == [
        ("10.0.0.1", pytest.approx(1_700_000_000.0), b"eth"),
        ("10.0.0.3", pytest.approx(1_700_000_001.0), b"raw"),
    ]


def test_pcapng_big_endian_and_simple_packet_block(tmp_path: Path) -> None:
    frame = eth(ip4("10.0.0.1", "10.0.0.2", udp(1, 2, b"spb"), 17))
    spb_body = struct.pack(">I", len(frame)) + frame + b"\0" * (-len(frame) % 4)
    spb = struct.pack(">II", 3, len(spb_body) + 12) + spb_body + struct.pack(">I", len(spb_body) + 12)
    data = pcapng([(1, None)], [(0, 5, frame)], endian=">", extra_blocks=[spb])
    sink = CollectingSink()
    res = process_capture(_write(tmp_path, data, "c.pcapng"), sink)
    assert res.stats.packets == 2
    assert sorted(p for _c, p in sink.datagrams) == [b"spb", b"spb"]


@pytest.mark.parametrize("data", [b"", b"\x00" * 3, b"not a capture at all, really", b"\x1f\x8b"])
def test_unusable_files_raise_capture_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CaptureError):
        process_capture(_write(tmp_path, data), CollectingSink())


def test_missing_file_raises_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError):
        process_capture(tmp_path / "nope.pcap", CollectingSink())


def test_truncated_last_record_is_counted(tmp_path: Path) -> None:
    data = pcap(_frames(5))
    res = process_capture(_write(tmp_path, data[:-10]), CollectingSink())
    assert res.stats.packets == 4
    assert res.stats.truncated_file and res.stats.skipped_records == 1


def test_corrupt_record_length_resyncs(tmp_path: Path) -> None:
    data = bytearray(pcap(_frames(6)))
    rec = len(data[24:]) // 6
    struct.pack_into("<I", data, 24 + 2 * rec + 8, 0x7FFFFFFF)  # third record: impossible caplen
    res = process_capture(_write(tmp_path, bytes(data)), CollectingSink())
    assert res.stats.reasons.get("bad_record_length") == 1
    assert res.stats.packets == 5  # the damaged record is lost, the walk resumes at the fourth
