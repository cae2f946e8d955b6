"""ASTM E1381/E1394: real analyzer messages replayed frame by frame over TCP, PHI absence, fuzzing."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from wardwatch.dissect.astm import ACK, DISSECTOR, ENQ, EOT, ETB, ETX, STX, checksum, deframe
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError
from wardwatch.identify.fingerprint import RuleSet

RULES = RuleSet.load_default()


def frames_of(raw: bytes) -> list[bytes]:
    """The frames to send: the captured ones when framed, else one E1381 frame per record."""
    if STX in raw:
        return [m.group(0) for m in re.finditer(rb"\x02[^\x02]*?[\x03\x17]..[\r\n]*", raw, re.DOTALL)]
    records = [r for r in re.split(rb"[\r\n]+", raw) if r and not r.startswith(b"#")]
    out = []
    for n, rec in enumerate(records, start=1):
        body = str(n % 8).encode() + rec + b"\r" + bytes([ETX])
        out.append(bytes([STX]) + body + checksum(body) + b"\r\n")
    return out


def replay(frames: list[bytes]) -> tuple[bytes, bytes]:
    """Send ENQ, each frame, EOT over loopback TCP; a server thread ACKs every message like a LIS."""
    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()
    sent = bytearray()

    def lis() -> None:
        conn, _ = server.accept()
        with conn:
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received.extend(chunk)
                buf += chunk
                # E1381 §6.2: ACK the ENQ and every complete frame (through its checksum)
                while buf:
                    if buf[0] in (ENQ,):
                        buf = buf[1:]
                        conn.sendall(bytes([ACK]))
                        sent.append(ACK)
                        continue
                    m = re.match(rb"\x02[^\x02]*?[\x03\x17]..[\r\n]*", buf, re.DOTALL)
                    if m and (m.end() < len(buf) or buf.endswith((b"\n", b"\r"))):
                        buf = buf[m.end():]
                        conn.sendall(bytes([ACK]))
                        sent.append(ACK)
                        continue
                    if buf[0] == EOT:
                        buf = buf[1:]
                        continue
                    break

    thread = threading.Thread(target=lis, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as cli:
        cli.sendall(bytes([ENQ]))
        assert cli.recv(1) == bytes([ACK])
        for frame in frames:
            cli.sendall(frame)
            assert cli.recv(1) == bytes([ACK])
        cli.sendall(bytes([EOT]))
    thread.join(10)
    server.close()
    return bytes(received), bytes(sent)


CASES = [
    # file, expected (vendor, model, software) after the rules; patient strings that must never surface
    ("senaite-astm/dca_vantage.txt", ("Siemens Healthineers", "DCA Vantage", "04.04.00.00"), ["BU24R554"]),
    ("senaite-astm/cobas_c111.txt", ("Roche", "cobas c111", "4.2.2.1730"), ["T20 10134GA D28"]),
    ("senaite-astm/sysmex_xp100.txt", ("Sysmex", "XP-100", "00-13"), ["WBC"]),
    ("senaite-astm/abbott_afinion2.txt", ("Abbott", "Afinion 2", None), ["3643", "HbA1c"]),
    ("senaite-astm/pentra_xlr.txt", ("HORIBA", None, None), ["Mohale", "Rita", "19771201", "S1234"]),
    ("twgenaux-astm-lis/OrthoVision.txt", ("Ortho Clinical Diagnostics", "ORTHO VISION", "5.10.0.46252"),
     ["Brown", "Bobby", "PID123456", "19650102", "SID101"]),
    ("twgenaux-astm-lis/PhadiaLIS2SampleMessage.txt", ("Thermo Fisher Scientific", "Phadia.Prime", "1.2.0.12371"),
     ["B7650020", "18991230"]),
    ("twgenaux-github-io/UP20190712124121-windows-1252.tra", ("Ortho Clinical Diagnostics", "ORTHO VISION",
                                                               "5.10.0.46252"), ["PID77677", "Blaine", "Bobby"]),
]


@pytest.mark.parametrize(("name", "expected", "phi"), CASES, ids=[c[0].split("/")[1] for c in CASES])
def test_real_analyzer_over_tcp(name: str, expected: tuple[str, str | None, str | None], phi: list[str]) -> None:
    raw = require_shared("astm", *name.split("/")).read_bytes()
    frames = frames_of(raw)
    client, server = replay(frames)
    assert client.startswith(bytes([ENQ])) and client.endswith(bytes([EOT]))
    ctx = FlowContext(0.0, "t", 6, None, None, "10.1.1.5", "10.1.1.9", 40000, 5000)
    assert DISSECTOR.detect(client, ctx)
    assert deframe(client).bad_frames == 0 and deframe(client).frames == len(frames)
    obs = list(DISSECTOR.dissect(ctx, client, server))
    assert obs and all(o.ip == "10.1.1.5" for o in obs)  # the ACK-only direction says nothing
    facts: dict[str, set[str]] = {}
    for o in obs:
        facts.setdefault(o.kind, set()).add(o.value)
    best = RULES.evaluate(facts)[0]
    vendor, model, software = expected
    assert best.attributes.get("vendor") == vendor
    assert best.attributes.get("model") == model
    assert best.attributes.get("software") == software
    text = repr([o.to_dict() for o in obs])
    for needle in phi:
        assert needle.encode() in raw  # the message does carry it ...
        assert needle not in text  # ... and it is not kept
    assert {o.kind for o in obs} <= {"astm.sender", "astm.vendor", "astm.model", "astm.software_version",
                                     "astm.serial", "astm.version", "astm.processing_id"}


def test_bad_checksum_is_counted_and_dropped() -> None:
    body = b"1H|\\^&|||Evil^Model^1.0\r" + bytes([ETX])
    good = bytes([STX]) + body + checksum(body) + b"\r\n"
    bad = good.replace(checksum(body), b"00" if checksum(body) != b"00" else b"01")
    out = deframe(bytes([ENQ]) + bad + good + bytes([EOT]))
    assert (out.frames, out.bad_frames) == (1, 1)
    ctx = FlowContext(0.0, "t", 6, None, None, "10.0.0.1", "10.0.0.2", 1, 2)
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(ctx, bytes([ENQ]) + bad + bytes([EOT]), b""))


def test_record_split_over_etb_frames_is_joined() -> None:
    header = b"H|\\^&|||Roche^c311^1.2.3|||||||P|LIS2-A2\r"
    parts = [header[:20], header[20:]]
    data = bytearray([ENQ])
    for n, (part, end) in enumerate(zip(parts, (ETB, ETX), strict=True), start=1):
        body = str(n).encode() + part + bytes([end])
        data += bytes([STX]) + body + checksum(body) + b"\r\n"
    ctx = FlowContext(0.0, "t", 6, None, None, "10.0.0.1", "10.0.0.2", 1, 2)
    facts = {o.kind: o.value for o in DISSECTOR.dissect(ctx, bytes(data), b"")}
    assert facts["astm.sender"] == "Roche^c311^1.2.3" and facts["astm.version"] == "LIS2-A2"


def _seeds() -> list[bytes]:
    root = require_shared("astm")
    return [p.read_bytes() for p in sorted(root.rglob("*")) if p.suffix in {".txt", ".tra"}]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fuzz_random_and_mutated(data: st.DataObject) -> None:
    seeds = _seeds()
    seed = data.draw(st.sampled_from(seeds))
    mode = data.draw(st.sampled_from(["random", "flip", "cut", "framed"]))
    if mode == "random":
        raw = data.draw(st.binary(max_size=2048))
    elif mode == "flip":
        pos = data.draw(st.integers(0, len(seed) - 1))
        raw = seed[:pos] + bytes([data.draw(st.integers(0, 255))]) + seed[pos + 1 :]
    elif mode == "cut":
        raw = seed[: data.draw(st.integers(0, len(seed)))]
    else:
        raw = bytes([ENQ]) + b"".join(frames_of(seed))
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:pos] + data.draw(st.binary(max_size=8)) + raw[pos + 1 :]
    ctx = FlowContext(0.0, "t", 6, None, None, "10.0.0.1", "10.0.0.2", 1, 2)
    DISSECTOR.detect(raw, ctx)
    try:
        obs = list(DISSECTOR.dissect(ctx, raw, b""))
    except ParseError:
        return
    assert all(o.kind.startswith("astm.") and len(o.value) <= 512 for o in obs)
