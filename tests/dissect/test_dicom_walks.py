"""DICOM shortcuts read what the general walks read: abstract syntax, command PDVs, command fragments.

Each shortcut of :mod:`wardwatch.dissect.dicom.pdu` and :mod:`~wardwatch.dissect.dicom.dimse` is checked
against the general item/PDV walk on arbitrary bytes, and the repeated-command skip of the dissector on
a burst of identical C-STORE requests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.pcap_payloads import mutations
from wardwatch.dissect._medical.emit import Emitter
from wardwatch.dissect.dicom import DISSECTOR, dimse
from wardwatch.dissect.dicom import pdu as P
from wardwatch.dissect.dicom.dimse import Command, commands, decode_command, iter_commands
from wardwatch.dissect.dicom.dissector import (
    CONF_COMMAND,
    CONF_PROPOSAL,
    MAX_TELLING_PROPOSALS,
    VERIFICATION,
    DicomDissector,
)
from wardwatch.dissect.dicom.infer import sop_name
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation
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


# --- the in-place walks of the dissector read what the general walks read ---------------------------------
#
# split_pdus, decode_associate (items and user information in place), _implicit_elements and commands (PDVs
# in place) against the generator walks they replace, and the dissector against its form over those walks.

def _reference_pdus(data: bytes) -> list[P.Pdu]:
    """The PDUs of iter_pdus up to the first bytes that are not DICOM (raises if none came first)."""
    out: list[P.Pdu] = []
    try:
        for pdu in P.iter_pdus(data):
            out.append(pdu)
    except ParseError:
        if not out:
            raise
    return out


def _reference_user_info(assoc: P.Associate, value: bytes) -> None:
    for sub, sub_value in P._items(value):
        if sub == P.SUB_MAX_LENGTH and len(sub_value) == 4:
            assoc.max_pdu = int.from_bytes(sub_value, "big")
        elif sub == P.SUB_IMPL_UID:
            assoc.implementation_uid = P._ascii(sub_value)
        elif sub == P.SUB_IMPL_VERSION:
            assoc.implementation_version = P._ascii(sub_value)


def _reference_associate(pdu: P.Pdu) -> P.Associate:
    """decode_associate over the _items walk."""
    body = pdu.body
    if len(body) < P.ASSOC_FIXED:
        raise ParseError("A-ASSOCIATE PDU shorter than its fixed part")
    assoc = P.Associate(kind=pdu.type, version=int.from_bytes(body[0:2], "big"), called_ae=P._ascii(body[4:20]),
                        calling_ae=P._ascii(body[20:36]))
    for kind, value in P._items(body[P.ASSOC_FIXED:]):
        if kind == P.ITEM_APP_CONTEXT:
            assoc.app_context = P._ascii(value)
        elif kind == P.ITEM_PCTX_RQ and len(value) >= 4:
            abstract = _walked_abstract(value)
            if abstract is not None:
                assoc.proposed[value[0]] = P._ascii(abstract)
        elif kind == P.ITEM_PCTX_AC and len(value) >= 4:
            assoc.results[value[0]] = value[2]
        elif kind == P.ITEM_USER_INFO:
            _reference_user_info(assoc, value)
    return assoc


def _reference_elements(raw: bytes) -> dict[int, bytes] | None:
    """_implicit_elements with the tag of each element (group and element) compared in full."""
    if len(raw) >= 6 and 0x40 < raw[4] < 0x5B and 0x40 < raw[5] < 0x5B:
        return None
    out: dict[int, bytes] = {}
    pos = 0
    while pos + 8 <= len(raw):
        group, elem, length = struct.unpack_from("<HHL", raw, pos)
        tag = group << 16 | elem
        if tag == 0xFFFEE00D or group != 0x0000:
            break
        if length == 0xFFFFFFFF:
            return None
        if tag in (0x00000100, 0x00000002, 0x00000003):
            out[tag] = raw[pos + 8 : pos + 8 + length]
        pos += 8 + length
    return out


def _outcome(call: Callable[..., object], *args: object) -> object:
    """What ``call(*args)`` gives, or its ParseError's text."""
    try:
        return call(*args)
    except ParseError as exc:
        return ("ParseError", str(exc))


def _reference_dissect(client: bytes, server: bytes) -> list[Observation]:
    """DicomDissector.dissect over the general walks (iter_pdus, _items, iter_pdvs, iter_commands)."""
    c_pdus = _reference_pdus(client) if client else []
    s_pdus = _reference_pdus(server) if server else []
    first_c = c_pdus[0].type if c_pdus else None
    first_s = s_pdus[0].type if s_pdus else None
    if first_c != P.A_ASSOCIATE_RQ and not (first_c is None and first_s in (P.A_ASSOCIATE_AC, P.A_ASSOCIATE_RJ)):
        raise ParseError("not a DICOM association: the client does not start with A-ASSOCIATE-RQ")
    em = Emitter(CTX)
    rq = _reference_associate(c_pdus[0]) if first_c is not None else None
    if rq is not None:
        DicomDissector._associate(em, rq, about_server=False)
    for pdu in s_pdus:
        if pdu.type == P.A_ASSOCIATE_AC:
            ac = _reference_associate(pdu)
            DicomDissector._associate(em, ac, about_server=True)
            if rq is not None:
                DicomDissector._accepted(em, rq, ac)
        elif pdu.type == P.A_ASSOCIATE_RJ:
            reject = P.decode_reject(pdu)
            em.emit("dicom.reject", reject.text(), about_server=True, excerpt=f"A-ASSOCIATE-RJ {reject.text()}")
    for side, pdus in ((False, c_pdus), (True, s_pdus)):
        for pdu in pdus:
            if pdu.type == P.A_ABORT and pdu.complete:
                em.emit("dicom.abort", P.decode_abort(pdu), about_server=side)
    client_cmds = list(iter_commands(c_pdus))
    server_cmds = list(iter_commands(s_pdus))
    for side, cmds in ((False, client_cmds), (True, server_cmds)):
        first: dict[str, Command] = {}
        for cmd in cmds:
            first.setdefault(cmd.name, cmd)
        for cmd in first.values():
            em.emit("dicom.command", cmd.name, about_server=side,
                    excerpt=f"{cmd.name} {sop_name(cmd.sop_class)}".strip())
    requests = [c for c in client_cmds if c.is_request and c.sop_class and c.sop_class != VERIFICATION]
    if requests:
        once: dict[tuple[str, str], Command] = {}
        for cmd in requests:
            once.setdefault((cmd.sop_class, cmd.name), cmd)
        requests = list(once.values())
        DicomDissector._infer(em, [c.sop_class for c in requests], CONF_COMMAND, requests)
    elif rq is not None:
        telling = sorted({u for u in rq.proposed.values() if u and u != VERIFICATION})
        if 0 < len(telling) <= MAX_TELLING_PROPOSALS:
            DicomDissector._infer(em, telling, CONF_PROPOSAL, None)
    return list(em.out)


def _listed_commands(pdus: list[P.Pdu]) -> list[Command]:
    return list(iter_commands(pdus))


def _same_walks(client: bytes, server: bytes) -> None:
    for data in (client, server):
        pdus = _outcome(_reference_pdus, data)
        assert _outcome(P.split_pdus, data) == pdus
        if not isinstance(pdus, list):
            continue
        assert _outcome(commands, pdus) == _outcome(_listed_commands, pdus)
        for pdu in pdus:
            if pdu.type in (P.A_ASSOCIATE_RQ, P.A_ASSOCIATE_AC):
                assert _outcome(P.decode_associate, pdu) == _outcome(_reference_associate, pdu)
            elif pdu.type == P.P_DATA_TF:
                for pdv in _pdvs(pdu, commands_only=True)[0]:
                    assert dimse._implicit_elements(pdv.data) == _reference_elements(pdv.data)
    assert _outcome(lambda: list(DISSECTOR.dissect(CTX, client, server))) == _outcome(
        _reference_dissect, client, server)


def _user_info_item(max_pdu: int, uid: bytes, version: bytes) -> bytes:
    return _item(P.ITEM_USER_INFO, _item(P.SUB_MAX_LENGTH, max_pdu.to_bytes(4, "big")) + _item(P.SUB_IMPL_UID, uid)
                 + _item(0x58, b"\x01\x00\x00\x05nurse\x00\x00") + _item(P.SUB_IMPL_VERSION, version))


def _associate_pdu(kind: int, contexts: bytes) -> bytes:
    fixed = b"\x00\x01\x00\x00" + b"PACS".ljust(16) + b"CT_SCANNER".ljust(16) + bytes(32)
    body = (fixed + _item(P.ITEM_APP_CONTEXT, b"1.2.840.10008.3.1.1.1") + contexts
            + _user_info_item(16382, b"1.2.826.0.1.3680043.9.3811.3.0.4", b"PYNETDICOM_304"))
    return struct.pack(">BBL", kind, 0, len(body)) + body


MR_IMAGE = b"1.2.840.10008.5.1.4.1.1.4"
VERIFY = b"1.2.840.10008.1.1"
_SEED_RQ = _associate_pdu(P.A_ASSOCIATE_RQ, b"".join(
    _item(P.ITEM_PCTX_RQ, bytes([pcid, 0, 0, 0]) + _item(P.ITEM_ABSTRACT, uid) + _item(P.ITEM_TRANSFER, IMPLICIT_LE))
    for pcid, uid in ((1, CT_IMAGE), (3, MR_IMAGE), (5, VERIFY), (7, CT_IMAGE))))
_SEED_AC = _associate_pdu(P.A_ASSOCIATE_AC, b"".join(
    _item(P.ITEM_PCTX_AC, bytes([pcid, 0, result, 0]) + _item(P.ITEM_TRANSFER, IMPLICIT_LE))
    for pcid, result in ((1, 0), (3, 3), (5, 0), (7, 0))))


def _c_store_rsp(message_id: int) -> bytes:
    body = (_element(0x00000002, CT_IMAGE + b"\x00") + _element(0x00000100, b"\x01\x80")
            + _element(0x00000120, message_id.to_bytes(2, "little")) + _element(0x00000800, b"\x01\x01")
            + _element(0x00000900, b"\x00\x00"))
    return _element(0x00000000, len(body).to_bytes(4, "little")) + body


_SEED_CLIENT = (_SEED_RQ + _p_data(_pdv(1, 0x03, _c_store_rq(1)), _pdv(1, 0x00, b"PHI" * 10))
                + _p_data(_pdv(3, 0x01, _c_store_rq(2)[:20]), _pdv(3, 0x03, _c_store_rq(2)[20:]))
                + _p_data(_pdv(1, 0x02, b"pixels")) + bytes.fromhex("050000000004") + bytes(4))
_SEED_SERVER = (_SEED_AC + _p_data(_pdv(1, 0x03, _c_store_rsp(1))) + _p_data(_pdv(3, 0x03, _c_store_rsp(2)))
                + bytes.fromhex("0600000000040000000007000000000400000201"))


def test_seed_association_equals_the_general_walks() -> None:
    obs = list(DISSECTOR.dissect(CTX, _SEED_CLIENT, _SEED_SERVER))
    kinds = {o.kind for o in obs}
    assert {"dicom.calling_ae", "dicom.proposed_sop", "dicom.accepted_sop", "dicom.max_pdu", "dicom.command",
            "dicom.abort", "dicom.modality"} <= kinds
    _same_walks(_SEED_CLIENT, _SEED_SERVER)
    for cut in range(0, len(_SEED_CLIENT), 7):
        _same_walks(_SEED_CLIENT[:cut], _SEED_SERVER[: cut // 2])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=mutations([_SEED_CLIENT, _SEED_RQ]), server=mutations([_SEED_SERVER, _SEED_AC, b""]))
def test_mutated_associations_equal_the_general_walks(client: bytes, server: bytes) -> None:
    _same_walks(client, server)


_FRAGMENTS = st.sampled_from([_c_store_rq(1), _c_store_rq(9)[:30], b"", b"x"]) | st.binary(max_size=20)


@settings(max_examples=300, deadline=None)
@given(pdvs=st.lists(st.tuples(st.sampled_from([1, 3, 5]), st.integers(0, 3), _FRAGMENTS), max_size=12),
       per_pdu=st.integers(1, 4), bad=st.booleans(), repeat=st.integers(1, 30))
def test_command_walk_equals_iter_commands(pdvs: list[tuple[int, int, bytes]], per_pdu: int, bad: bool,
                                           repeat: int) -> None:
    items = [_pdv(c, h, f) for c, h, f in pdvs] * repeat  # long bursts reach MAX_COMMANDS
    if bad:
        items.insert(len(items) // 2, struct.pack(">LBB", 1, 1, 3))  # a PDV item shorter than its header
    data = b"".join(_p_data(*items[i : i + per_pdu]) for i in range(0, len(items), per_pdu))
    _same_walks(_SEED_RQ + data, _SEED_AC + data)


@settings(max_examples=300, deadline=None)
@given(client=st.binary(max_size=300), server=st.binary(max_size=200))
def test_random_bytes_equal_the_general_walks(client: bytes, server: bytes) -> None:
    _same_walks(client, server)
    _same_walks(b"\x01\x00" + client, server)


def _lying_item(kind: int, value: bytes, delta: int) -> bytes:
    """An item whose length field may be off by ``delta`` from its value (hostile or cut encodings)."""
    return struct.pack(">BBH", kind, 0, max(0, min(0xFFFF, len(value) + delta))) + value


_DELTAS = st.sampled_from([0, 0, 0, 0, 1, 1, -1, 2, -4, 300])


@st.composite
def _sub_items(draw: st.DrawFn, kinds: list[int]) -> bytes:
    items = draw(st.lists(st.tuples(st.sampled_from(kinds), st.binary(max_size=12) | st.sampled_from(
        [CT_IMAGE, b"\x00\x00\x40\x00", b"PYNETDICOM \x00"]), _DELTAS), max_size=4))
    return b"".join(_lying_item(k, v, d) for k, v, d in items)


@st.composite
def _associate_bodies(draw: st.DrawFn) -> bytes:
    """A-ASSOCIATE bodies: the fixed part, then items of every type the decoder reads, lengths sometimes lying."""
    fixed = draw(st.binary(min_size=68, max_size=68))
    items = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from([P.ITEM_APP_CONTEXT, P.ITEM_PCTX_RQ, P.ITEM_PCTX_AC, P.ITEM_USER_INFO, 0x99]))
        if kind in (P.ITEM_PCTX_RQ, P.ITEM_PCTX_AC):
            head = draw(st.binary(min_size=4, max_size=4) | st.binary(max_size=4))  # ID and reserved bytes
            value = head + draw(_sub_items([P.ITEM_ABSTRACT, P.ITEM_TRANSFER, 0x77]))
        elif kind == P.ITEM_USER_INFO:
            value = draw(_sub_items([P.SUB_MAX_LENGTH, P.SUB_IMPL_UID, P.SUB_IMPL_VERSION, 0x58]))
        else:
            value = draw(st.binary(max_size=24))
        items.append(_lying_item(kind, value, draw(_DELTAS)))
    return fixed + b"".join(items)


@settings(max_examples=600, deadline=None)
@given(body=_associate_bodies(), kind=st.sampled_from([P.A_ASSOCIATE_RQ, P.A_ASSOCIATE_AC]))
def test_associate_decoder_equals_the_item_walk(body: bytes, kind: int) -> None:
    pdu = P.Pdu(kind, body, True)
    assert _outcome(P.decode_associate, pdu) == _outcome(_reference_associate, pdu)


@pytest.mark.parametrize("delta", [-2, -1, 0, 1, 2])
def test_abstract_syntax_sub_item_at_the_end(delta: int) -> None:
    """An abstract syntax sub-item whose length runs past its presentation context by a few bytes."""
    for after in (b"", _item(P.ITEM_TRANSFER, IMPLICIT_LE)):
        pctx = _item(P.ITEM_PCTX_RQ, b"\x01\x00\x00\x00" + _lying_item(P.ITEM_ABSTRACT, CT_IMAGE, delta) + after)
        pdu = P.Pdu(P.A_ASSOCIATE_RQ, bytes(68) + pctx + _item(P.ITEM_APP_CONTEXT, b"1.2"), True)
        assert P.decode_associate(pdu) == _reference_associate(pdu)


def test_associate_item_limit() -> None:
    many = b"".join(_item(P.ITEM_PCTX_AC, bytes([n % 256, 0, n // 100, 0])) for n in range(P.MAX_ITEMS + 5))
    pdu = P.Pdu(P.A_ASSOCIATE_AC, bytes(68) + many, True)
    assert P.decode_associate(pdu) == _reference_associate(pdu)
    info = _item(P.ITEM_USER_INFO, _item(0x58, b"") * P.MAX_ITEMS + _item(P.SUB_IMPL_UID, b"1.2"))
    pdu = P.Pdu(P.A_ASSOCIATE_RQ, bytes(68) + info, True)
    assert P.decode_associate(pdu) == _reference_associate(pdu)
    assert P.decode_associate(pdu).implementation_uid == ""  # past MAX_ITEMS: not read


_TAGS = st.sampled_from([0x00000000, 0x00000002, 0x00000003, 0x00000100, 0x00000110, 0x00000800, 0x00080016,
                         0xFFFEE00D, 0x00004142])


@settings(max_examples=500, deadline=None)
@given(elements=st.lists(st.tuples(_TAGS, st.binary(max_size=10), st.sampled_from([0, 0, 0, 1, -1, None])),
                         max_size=8), cut=st.integers(0, 12))
def test_command_elements_equal_the_tag_walk(elements: list[tuple[int, bytes, int | None]], cut: int) -> None:
    """The direct element walk (group and element compared apart) equals one comparing whole tags."""
    raw = b"".join(struct.pack("<HHL", tag >> 16, tag & 0xFFFF, 0xFFFFFFFF if delta is None
                               else max(0, len(value) + delta)) + value for tag, value, delta in elements)
    raw = raw[: max(0, len(raw) - cut)]
    assert dimse._implicit_elements(raw) == _reference_elements(raw)


def test_command_burst_stops_at_max_commands() -> None:
    """Past MAX_COMMANDS decoded commands the walk stops: a broken PDV after them raises nothing."""
    burst = [_pdv(1, 0x03, _c_store_rq(n)) for n in range(dimse.MAX_COMMANDS + 6)]
    bad = struct.pack(">LBB", 1, 1, 3)
    for where in (dimse.MAX_COMMANDS - 1, dimse.MAX_COMMANDS, len(burst)):
        data = b"".join(_p_data(*burst[i : i + 3]) for i in range(0, where, 3)) + _p_data(bad, *burst[where:])
        pdus = P.split_pdus(data)
        assert _outcome(commands, pdus) == _outcome(_listed_commands, pdus)
        _same_walks(_SEED_RQ + data, _SEED_AC + data)


def test_fragment_limit() -> None:
    """A command set growing past MAX_COMMAND across fragments is dropped, as iter_commands drops it."""
    raw = _c_store_rq(1)
    pad = b"\x00" * 4000
    for count in (3, 4, 5):
        frags = [_pdv(1, 0x01, pad) for _ in range(count)] + [_pdv(1, 0x03, raw), _pdv(1, 0x03, raw)]
        data = b"".join(_p_data(f) for f in frags)
        pdus = P.split_pdus(data)
        assert commands(pdus) == list(iter_commands(pdus))
        _same_walks(_SEED_RQ + data, b"")
