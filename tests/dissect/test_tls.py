"""TLS dissector: JA3/JA4 vectors, handshake reassembly, differential against tshark (and openssl for
certificate names), fuzz."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from tests.support.dissect_fuzz import mutated, run_contract
from tests.support.streams import Stream, tcp_streams
from tests.support.tshark import fields
from wardwatch.dissect._tls.fingerprints import ja3_string, ja4, md5_hex
from wardwatch.dissect._tls.records import parse_client_hello
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.tls import DISSECTOR
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.0.0.1",
                  dst_ip="10.0.0.2", src_port=50000, dst_port=443)
TRACES = ["tls_client-certificate.pcap", "tls_google-cert-repeat.pcap",
          "tls_signed_certificate_timestamp.pcap", "tls_ssl.v3.pcap", "tls_tls-conn-with-extensions.pcap"]


def u16s(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def vec(data: bytes, n: int) -> bytes:
    return len(data).to_bytes(n, "big") + data


def ext(ext_type: int, data: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + vec(data, 2)


def client_hello(ciphers: list[int], extensions: list[bytes], version: int = 0x0303) -> bytes:
    """A ClientHello handshake message (RFC 8446 §4.1.2), without the record header."""
    body = (version.to_bytes(2, "big") + bytes(32) + vec(bytes(32), 1) + vec(u16s(ciphers), 2)
            + b"\x01\x00" + vec(b"".join(extensions), 2))
    return b"\x01" + len(body).to_bytes(3, "big") + body


def records(handshake: bytes, size: int = 16384, version: bytes = b"\x03\x01") -> bytes:
    """Handshake bytes cut into records of at most ``size`` bytes (type 22)."""
    return b"".join(b"\x16" + version + vec(handshake[i : i + size], 2)
                    for i in range(0, len(handshake), size))


# A Chrome 143 ClientHello rebuilt from a published browserleaks record (independent JA3/JA4 code):
# ja3_text 771,4865-...-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0
# ja3_hash 98487aa16281980e7d1120d399efb6a4; ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd.
# GREASE 0x0a0a / 0x1a1a are added where Chrome puts them; both fingerprints must ignore them.
CHROME_CIPHERS = [0x0A0A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013,
                  0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
CHROME_EXTENSIONS = [
    ext(0x1A1A, b""),
    ext(0x002D, b"\x01\x01"),                                   # psk_key_exchange_modes
    ext(0x0033, b"\x00\x00"),                                   # key_share (content irrelevant)
    ext(0x0010, vec(vec(b"h2", 1) + vec(b"http/1.1", 1), 2)),   # ALPN h2, http/1.1
    ext(0xFE0D, b""),                                           # ECH
    ext(0x0017, b""),                                           # extended_master_secret
    ext(0x44CD, b""),                                           # ALPS
    ext(0x0000, vec(b"\x00" + vec(b"tls.browserleaks.com", 2), 2)),  # SNI
    ext(0x000B, vec(b"\x00", 1)),                               # ec_point_formats: uncompressed
    ext(0x000A, vec(u16s([0x2A2A, 4588, 29, 23, 24]), 2)),      # supported_groups (GREASE first)
    ext(0x002B, vec(u16s([0x3A3A, 0x0304, 0x0303]), 1)),        # supported_versions
    ext(0xFF01, b"\x00"),                                       # renegotiation_info
    ext(0x0023, b""),                                           # session_ticket
    ext(0x0012, b""),                                           # signed_certificate_timestamp
    ext(0x0005, b"\x01\x00\x00\x00\x00"),                       # status_request
    ext(0x000D, vec(u16s(SIG_ALGS), 2)),                        # signature_algorithms
    ext(0x001B, b"\x02\x00\x02"),                               # compress_certificate
    ext(0x4A4A, b"\x00"),
]
CHROME_HELLO = client_hello(CHROME_CIPHERS, CHROME_EXTENSIONS)


def test_ja3_and_ja4_match_the_published_vector() -> None:
    hello = parse_client_hello(CHROME_HELLO[4:])
    assert ja3_string(hello) == (
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
        "45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0")
    assert md5_hex(ja3_string(hello)) == "98487aa16281980e7d1120d399efb6a4"
    assert ja4(hello) == "t13d1516h2_8daaf6152771_d8a2da3f94cd"


def test_ja4_spec_example() -> None:
    """JA4.md "Example": the spec's ciphers and extension order give t13d1516h2_8daaf6152771_e5627efa2ab1."""
    spec_exts = [0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023, 0x0012,
                 0x002B, 0xFF01, 0x000B, 0x000A, 0x0015]
    payload = {0x0000: vec(b"\x00" + vec(b"example.org", 2), 2), 0x0010: vec(vec(b"h2", 1), 2),
               0x000D: vec(u16s(SIG_ALGS), 2), 0x002B: vec(u16s([0x0304]), 1)}
    message = client_hello(CHROME_CIPHERS[1:], [ext(e, payload.get(e, b"")) for e in spec_exts])
    hello = parse_client_hello(message[4:])
    assert ja4(hello) == "t13d1516h2_8daaf6152771_e5627efa2ab1"


@pytest.mark.parametrize(("alpn", "code"), [(b"\xab", "ab"), (b"\xab\xcd", "ad"), (b"\x30\xab", "3b"),
                                           (b"0\xab\xcd1", "01"), (b"http/1.1", "h1"), (b"", "00")])
def test_ja4_alpn_rule(alpn: bytes, code: str) -> None:
    hello = parse_client_hello(client_hello([0x1301], [ext(0x0010, vec(vec(alpn, 1), 2))])[4:])
    assert ja4(hello)[8:10] == code


def test_hello_split_across_records_and_segments_is_reassembled() -> None:
    whole = {(o.kind, o.value) for o in DISSECTOR.dissect(CTX, records(CHROME_HELLO), b"")}
    split = {(o.kind, o.value) for o in DISSECTOR.dissect(CTX, records(CHROME_HELLO, size=50), b"")}
    assert whole == split
    assert ("tls.sni", "tls.browserleaks.com") in whole
    assert ("tls.alpn", "h2,http/1.1") in whole
    assert ("tls.client_version", "TLS 1.3") in whole


def test_truncated_hello_yields_nothing_but_no_error() -> None:
    data = records(CHROME_HELLO)
    for cut in range(5, len(data), 37):
        assert list(DISSECTOR.dissect(CTX, data[:cut], b"")) == []


def test_not_tls_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n"))
    assert not DISSECTOR.detect(b"GET / HTTP/1.1", CTX)
    assert DISSECTOR.detect(records(CHROME_HELLO), CTX)


# --- differential against tshark -----------------------------------------------------------------

def _facts(stream: Stream) -> dict[str, list[tuple[str, bool]]]:
    out: dict[str, list[tuple[str, bool]]] = {}
    for obs in DISSECTOR.dissect(stream.ctx(), stream.client_bytes, stream.server_bytes):
        out.setdefault(obs.kind, []).append((obs.value, obs.ip == stream.server[0]))
    return out


def _streams(name: str) -> dict[int, Stream]:
    path = require_shared("zeek-traces", name)
    return {i: s for i, s in enumerate(tcp_streams(path)) if s.complete and s.client_bytes}


VERSION = {"0x0300": "SSL 3.0", "0x0301": "TLS 1.0", "0x0302": "TLS 1.1", "0x0303": "TLS 1.2",
           "0x0304": "TLS 1.3"}


@pytest.mark.parametrize("name", TRACES)
def test_hello_facts_equal_tshark(name: str, tshark: str) -> None:
    path = require_shared("zeek-traces", name)
    streams = _streams(name)
    compared = 0
    for stream_no, sni, ja3, ja3_full, alpn in fields(
        tshark, path, "tls.handshake.type == 1", "tcp.stream", "tls.handshake.extensions_server_name",
        "tls.handshake.ja3", "tls.handshake.ja3_full", "tls.handshake.extensions_alpn_str",
    ):
        if int(stream_no) not in streams or not ja3:
            continue  # SSLv2-format hellos have no JA3 in tshark either
        ours = {k: [v for v, _ in vals] for k, vals in _facts(streams[int(stream_no)]).items()}
        assert ours.get("tls.sni", [""]) == [sni]
        assert ours["tls.ja3"] == [ja3]
        assert ours["tls.ja3_string"] == [ja3_full]
        assert ours.get("tls.alpn", [""]) == [alpn.replace("|", ",")]
        compared += 1
    assert compared > 0


@pytest.mark.parametrize("name", TRACES)
def test_server_hello_facts_equal_tshark(name: str, tshark: str) -> None:
    path = require_shared("zeek-traces", name)
    streams = _streams(name)
    compared = 0
    for stream_no, version, selected, ja3s in fields(
        tshark, path, "tls.handshake.type == 2", "tcp.stream", "tls.handshake.version",
        "tls.handshake.extensions.supported_version", "tls.handshake.ja3s",
    ):
        if int(stream_no) not in streams:
            continue
        ours = _facts(streams[int(stream_no)])
        assert ours["tls.version"] == [(VERSION[selected or version], True)]
        assert ours["tls.ja3s"] == [(ja3s, True)]
        compared += 1
    assert compared > 0


def _openssl(der: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "cert.der"
    path.write_bytes(der)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(path), "-noout", "-subject",
                          "-issuer", "-nameopt", "RFC2253"], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines())


def _tshark_time(text: str) -> str:
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S (UTC)").replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("name", TRACES)
def test_certificates_equal_tshark_and_openssl(name: str, tshark: str, tmp_path: Path) -> None:
    path = require_shared("zeek-traces", name)
    streams = _streams(name)
    compared = 0
    for stream_no, src, certs, utc_times in fields(
        tshark, path, "tls.handshake.type == 11", "tcp.stream", "ip.src", "tls.handshake.certificate",
        "x509af.utcTime",
    ):
        if int(stream_no) not in streams:
            continue
        stream = streams[int(stream_no)]
        from_server = src == stream.server[0]
        der = bytes.fromhex(certs.split("|")[0].replace(":", ""))
        ours = {k: [v for v, side in vals if side == from_server] for k, vals in _facts(stream).items()}
        assert ours["tls.cert_sha256"] == [hashlib.sha256(der).hexdigest()]
        not_before, not_after = utc_times.split("|")[:2]
        assert ours["tls.cert_not_before"] == [_tshark_time(not_before)]
        assert ours["tls.cert_not_after"] == [_tshark_time(not_after)]
        names = _openssl(der, tmp_path)
        assert ours["tls.cert_subject"] == [names["subject"]]
        assert ours["tls.cert_issuer"] == [names["issuer"]]
        compared += 1
    assert compared > 0


def test_self_signed_certificate(tmp_path: Path) -> None:
    key, cert = tmp_path / "k.pem", tmp_path / "c.der"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-outform", "DER", "-out", str(cert), "-days", "1",
                    "-subj", "/CN=monitor-12.ward.local/O=Acme Medical", "-addext",
                    "subjectAltName=DNS:monitor-12.ward.local"], check=True, capture_output=True)
    der = cert.read_bytes()
    body = vec(vec(der, 3), 3)
    server = records(b"\x0b" + len(body).to_bytes(3, "big") + body, version=b"\x03\x03")
    facts = {(o.kind, o.value) for o in DISSECTOR.dissect(CTX, records(CHROME_HELLO), server)}
    assert ("tls.cert_self_signed", "true") in facts
    assert ("tls.cert_subject", "O=Acme Medical,CN=monitor-12.ward.local") in facts
    assert ("tls.cert_san", "monitor-12.ward.local") in facts


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=st.one_of(st.binary(max_size=600), mutated(records(CHROME_HELLO)),
                        mutated(records(CHROME_HELLO, size=90))))
def test_fuzz_client(client: bytes) -> None:
    run_contract(DISSECTOR, CTX, client)


def test_fuzz_real_server_flights() -> None:
    """Mutations of real server flights (ServerHello + Certificate) from a trace."""
    path = require_shared("zeek-traces", "tls_tls-conn-with-extensions.pcap")
    seed = next(s.server_bytes for s in tcp_streams(path) if s.server_bytes)[:4000]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(server=mutated(seed))
    def run(server: bytes) -> None:
        run_contract(DISSECTOR, CTX, records(CHROME_HELLO), server)

    run()


def test_certificate_names_lose_control_characters() -> None:
    """A SAN DNS name with a NUL (the null-prefix trick) or a subject with a control character: the facts
    keep the name without them (found by the mutation fuzz test on a real server flight)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from wardwatch.dissect._tls.certs import certificate_facts

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "infusion\x01pump")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("pump.example\x00.evil")]), critical=False)
            .sign(key, hashes.SHA256()))
    facts = dict(certificate_facts(cert.public_bytes(serialization.Encoding.DER)))
    assert facts["tls.cert_san"] == "pump.example.evil"
    assert facts["tls.cert_subject"] == "CN=infusionpump"
    assert not any(ch in value for value in facts.values() for ch in "\x00\x01\r\n")
