"""DICOM shortcuts read what the general walks read: abstract syntax, command PDVs, command fragments.

Each shortcut of :mod:`wardwatch.dissect.dicom.pdu` and :mod:`~wardwatch.dissect.dicom.dimse` is checked
against the general item/PDV walk on arbitrary bytes, and the repeated-command skip of the dissector on
a burst of identical C-STORE requests.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.dissect.dicom import DISSECTOR
from wardwatch.dissect.dicom import pdu as P
from wardwatch.dissect.dicom.dimse import Command, decode_command, iter_commands
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=6, src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02",
                  src_ip="10.0.0.1", dst_ip="10.0.0.2", src_port=40000, dst_port=104)
CT_IMAGE = b"1.2.840.10008.5.1.4.1.1.2"
IMPLICIT_LE = b"1.2.840.10008.1.2"


def _item(kind: int, value: bytes) -> bytes:
    """A variable item or sub-item: type, reserved, 2-byte big-endian length (PS3.8 §9.3.2)."""
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _element(tag: int, value: bytes) -> bytes:
    """Implicit VR Little Endian element (PS3.5 §7.1.3)."""
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


def _pdv(context_id: int, header: int, fragment: bytes) -> bytes:
    """A PDV item (PS3.8 Table 9-23, Annex E.2): length, context ID, control header, fragment."""
    return struct.pack(">LBB", len(fragment) + 2, context_id, header) + fragment


def _p_data(*pdvs: bytes) -> bytes:
    body = b"".join(pdvs)
    return struct.pack(">BBL", P.P_DATA_TF, 0, len(body)) + body


def _walked_abstract(pctx: bytes) -> bytes | None:
    return next((value for kind, value in P._items(pctx[4:]) if kind == P.ITEM_ABSTRACT), None)


@settings(max_examples=400, deadline=None)
@given(head=st.binary(min_size=4, max_size=4),
       items=st.lists(st.tuples(st.sampled_from([P.ITEM_ABSTRACT, P.ITEM_TRANSFER, 0x99]),
                                st.binary(max_size=40)), max_size=4),
       cut=st.integers(0, 30), noise=st.binary(max_size=6))
def test_abstract_syntax_equals_the_item_walk(head: bytes, items: list[tuple[int, bytes]], cut: int,
                                               noise: bytes) -> None:
    pctx = head + b"".join(_item(kind, value) for kind, value in items)
    for candidate in (pctx, pctx[: max(0, len(pctx) - cut)], pctx + noise, head + noise):
        assert P._abstract_syntax(candidate) == _walked_abstract(candidate)


def test_abstract_syntax_after_the_transfer_syntax() -> None:
    pctx = b"\x01\x00\x00\x00" + _item(P.ITEM_TRANSFER, IMPLICIT_LE) + _item(P.ITEM_ABSTRACT, CT_IMAGE)
    assert P._abstract_syntax(pctx) == CT_IMAGE


def _pdvs(pdu: P.Pdu, *, commands_only: bool) -> tuple[list[P.Pdv], bool]:
    out: list[P.Pdv] = []
    try:
        for pdv in P.iter_pdvs(pdu, commands_only=commands_only):
            out.append(pdv)
    except ParseError:
        return out, True
    return out, False


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=120) | st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 3), st.binary(max_size=12)), max_size=6
).map(lambda pdvs: b"".join(_pdv(c, h, f) for c, h, f in pdvs)))
def test_commands_only_equals_filtering(body: bytes) -> None:
    pdu = P.Pdu(P.P_DATA_TF, body, True)
    everything, failed = _pdvs(pdu, commands_only=False)
    commands, failed_too = _pdvs(pdu, commands_only=True)
    assert failed_too == failed
    assert commands == [pdv for pdv in everything if pdv.is_command]


def _c_store_rq(message_id: int = 7) -> bytes:
    """A C-STORE-RQ command set (PS3.7 §9.3.1.1) about CT Image Storage."""
    body = (_element(0x00000002, CT_IMAGE + b"\x00") + _element(0x00000100, b"\x01\x00")
            + _element(0x00000110, message_id.to_bytes(2, "little")) + _element(0x00000800, b"\x00\x00"))
    return _element(0x00000000, len(body).to_bytes(4, "little")) + body


def test_fragmented_command_equals_whole() -> None:
    raw = _c_store_rq()
    whole = P.Pdu(P.P_DATA_TF, _p_data(_pdv(1, 0x03, raw))[6:], True)
    # The same command set in three fragments, with a data set fragment of another context between.
    split = _p_data(_pdv(1, 0x01, raw[:10]), _pdv(3, 0x00, b"PHI never read"), _pdv(1, 0x01, raw[10:30]),
                    _pdv(1, 0x03, raw[30:]))
    fragmented = P.Pdu(P.P_DATA_TF, split[6:], True)
    expected = decode_command(raw, 1)
    assert expected == Command("C-STORE-RQ", 0x0001, CT_IMAGE.decode(), 1)
    assert list(iter_commands([whole])) == [expected]
    assert list(iter_commands([fragmented])) == [expected]


def _associate_rq(calling: bytes, called: bytes, abstract: bytes) -> bytes:
    """An A-ASSOCIATE-RQ (PS3.8 Table 9-11) with one presentation context of ``abstract``."""
    pctx = _item(P.ITEM_PCTX_RQ, b"\x01\x00\x00\x00" + _item(P.ITEM_ABSTRACT, abstract))
    fixed = b"\x00\x01\x00\x00" + called.ljust(16) + calling.ljust(16) + bytes(32)
    return struct.pack(">BBL", P.A_ASSOCIATE_RQ, 0, len(fixed) + len(pctx)) + fixed + pctx


def test_repeated_commands_are_reported_once() -> None:
    rq = _associate_rq(b"CT_SCANNER", b"PACS", CT_IMAGE)
    burst = b"".join(_p_data(_pdv(1, 0x03, _c_store_rq(n)), _pdv(1, 0x02, b"pixels")) for n in range(40))
    assert DISSECTOR.detect(rq + burst, CTX)
    obs = list(DISSECTOR.dissect(CTX, rq + burst, b""))
    commands = [o for o in obs if o.kind == "dicom.command"]
    assert [(o.value, o.excerpt) for o in commands] == [("C-STORE-RQ", "C-STORE-RQ CT Image Storage")]
    inferred = sorted((o.kind, o.value, o.ip, o.confidence) for o in obs if o.kind in ("dicom.role",
                                                                                       "dicom.modality"))
    assert inferred == [("dicom.modality", "CT", "10.0.0.1", 0.9), ("dicom.role", "modality", "10.0.0.1", 0.9),
                        ("dicom.role", "pacs_archive", "10.0.0.2", 0.8)]
