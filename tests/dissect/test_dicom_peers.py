"""DICOM dissector on real peers captured on loopback (pynetdicom, dcmtk), checked against tshark.

Issue 3, Must show 1: each endpoint gets the right role/modality, and the parsed fields equal tshark's
DICOM dissector (``dicom.assoc.*``, ``dicom.userinfo.*``, ``dicom.pctx.*``, the DIMSE command in the
Info column) on the same capture, decoded with ``-d tcp.port==PORT,dicom`` since the ports are random.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests.conftest import require_tool
from tests.peers import dicom as peers
from tests.support.streams import Stream, tcp_streams
from tests.support.tshark import fields as oracle_fields
from wardwatch.dissect.dicom import DISSECTOR
from wardwatch.dissect.interface import InputShape
from wardwatch.dissect.registry import Registry
from wardwatch.domain.observation import Observation

_UID_IN_PARENS = re.compile(r"\(([0-9.]+)\)\s*$")
_COMMAND = re.compile(r"\b([CN]-[A-Z-]+?-(?:RQ|RSP))\b")


@pytest.fixture(scope="module")
def tools() -> None:
    require_tool("tcpdump")
    for tool in ("storescp", "storescu", "echoscu", "findscu", "wlmscpfs", "dump2dcm"):
        require_tool(tool)


@pytest.fixture(scope="module")
def ct_store(tools: None, tmp_path_factory: pytest.TempPathFactory) -> peers.PeerCapture:
    tmp = tmp_path_factory.mktemp("ct")
    return peers.capture_pynetdicom_store(tmp, [peers.testdata("CT_small.dcm")])


@pytest.fixture(scope="module")
def mr_dcmtk(tools: None, tmp_path_factory: pytest.TempPathFactory) -> peers.PeerCapture:
    tmp = tmp_path_factory.mktemp("mr")
    return peers.capture_dcmtk_store(tmp, [peers.testdata("MR_small.dcm")])


@pytest.fixture(scope="module")
def worklist(tools: None, tmp_path_factory: pytest.TempPathFactory) -> peers.PeerCapture:
    return peers.capture_dcmtk_worklist(tmp_path_factory.mktemp("wl"))


@pytest.fixture(scope="module")
def mwl_mpps(tools: None, tmp_path_factory: pytest.TempPathFactory) -> peers.PeerCapture:
    return peers.capture_pynetdicom_worklist_mpps(tmp_path_factory.mktemp("mpps"))


@pytest.fixture(scope="module")
def reject_abort(tools: None, tmp_path_factory: pytest.TempPathFactory) -> peers.PeerCapture:
    return peers.capture_pynetdicom_reject_abort(tmp_path_factory.mktemp("rj"))


def dissect_all(capture: peers.PeerCapture) -> list[tuple[Stream, list[Observation]]]:
    out = []
    for stream in tcp_streams(capture.pcap):
        if stream.server[1] != capture.port or not stream.client_bytes:
            continue
        assert DISSECTOR.detect(stream.client_bytes, stream.ctx())
        out.append((stream, list(DISSECTOR.dissect(stream.ctx(), stream.client_bytes, stream.server_bytes))))
    assert out, "no DICOM connection in the capture"
    return out


def kinds(obs: list[Observation], kind: str, *, ip: str | None = None) -> set[str]:
    return {o.value for o in obs if o.kind == kind and (ip is None or o.ip == ip)}


def side(o: Observation) -> str:
    """``c`` when the observation is about the client (127.0.0.1), ``s`` about the server (127.0.0.2)."""
    assert o.ip in (peers.CLIENT_IP, peers.SERVER_IP)
    return "s" if o.ip == peers.SERVER_IP else "c"


_FIELDS = ("tcp.srcport", "tcp.dstport", "dicom.pdu.type", "dicom.assoc.ae.calling", "dicom.assoc.ae.called",
           "dicom.userinfo.uid", "dicom.userinfo.version", "dicom.max_pdu_len", "dicom.pctx.id", "dicom.pctx.result",
           "dicom.pctx.abss.syntax", "_ws.col.Info", "dicom.assoc.reject.result", "dicom.assoc.reject.source",
           "dicom.assoc.reject.reason")


def _fields(tshark: str, capture: peers.PeerCapture) -> list[list[str]]:
    return oracle_fields(tshark, capture.pcap, "dicom", *_FIELDS, decode_as=f"tcp.port=={capture.port},dicom")


def tshark_view(tshark: str, capture: peers.PeerCapture) -> dict[int, dict[str, set[str]]]:
    """Per client port: the fields tshark decoded, keyed like our kinds (c:/s: = client/server side)."""
    views: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    proposed: dict[int, dict[str, str]] = defaultdict(dict)
    accepted_ids: dict[int, set[str]] = defaultdict(set)
    for row in _fields(tshark, capture):
        src, dst, pdu_type = int(row[0]), int(row[1]), row[2]
        client_port = dst if src == capture.port else src
        side = "s" if src == capture.port else "c"
        view = views[client_port]
        if pdu_type == "0x01":
            view["c:dicom.calling_ae"].add(row[3].strip())
            view["s:dicom.called_ae"].add(row[4].strip())
            for pcid, syntax in zip(row[8].split("|"), row[10].split("|"), strict=True):
                match = _UID_IN_PARENS.search(syntax)
                proposed[client_port][pcid] = match.group(1) if match else syntax
                view["c:dicom.proposed_sop"].add(proposed[client_port][pcid])
        if pdu_type == "0x02":
            for pcid, result in zip(row[8].split("|"), row[9].split("|"), strict=True):
                if int(result, 0) == 0:
                    accepted_ids[client_port].add(pcid)
        if pdu_type in ("0x01", "0x02"):
            view[f"{side}:dicom.implementation_uid"].add(row[5])
            view[f"{side}:dicom.implementation_version"].add(row[6])
            view[f"{side}:dicom.max_pdu"].add(row[7])
        for command in _COMMAND.findall(row[11]):
            view[f"{side}:dicom.command"].add(command)
    for client_port, ids in accepted_ids.items():
        views[client_port]["s:dicom.accepted_sop"] = {proposed[client_port][i] for i in ids}
    return views


def ours_view(stream: Stream, obs: list[Observation]) -> dict[str, set[str]]:
    view: dict[str, set[str]] = defaultdict(set)
    for o in obs:
        if o.kind in ("dicom.role", "dicom.modality", "dicom.reject", "dicom.abort"):
            continue
        view[f"{side(o)}:{o.kind}"].add(o.value)
    return view


@pytest.mark.parametrize("scenario", ["ct_store", "mr_dcmtk", "worklist", "mwl_mpps"])
def test_fields_equal_tshark(scenario: str, request: pytest.FixtureRequest, tshark: str) -> None:
    capture: peers.PeerCapture = request.getfixturevalue(scenario)
    theirs = tshark_view(tshark, capture)
    for stream, obs in dissect_all(capture):
        expected = theirs[stream.client[1]]
        assert expected["c:dicom.calling_ae"] == {capture.calling_ae}
        ours = ours_view(stream, obs)
        assert dict(ours) == {k: v for k, v in expected.items() if v}


def test_ct_modality_and_pacs(ct_store: peers.PeerCapture) -> None:
    [(_, obs)] = dissect_all(ct_store)
    assert kinds(obs, "dicom.calling_ae") == {"CT_SCANNER"}
    assert kinds(obs, "dicom.called_ae") == {"PACS_ARCHIVE"}
    assert kinds(obs, "dicom.modality") == {"CT"}
    roles = {(o.value, side(o)) for o in obs if o.kind == "dicom.role"}
    assert roles == {("modality", "c"), ("pacs_archive", "s")}
    assert {"C-ECHO-RQ", "C-STORE-RQ", "C-STORE-RSP"} <= kinds(obs, "dicom.command")
    assert kinds(obs, "dicom.implementation_version") == {"PYNETDICOM_" + _pynetdicom_version()}


def _pynetdicom_version() -> str:
    import pynetdicom

    return "".join(pynetdicom.__version__.split(".")[:3])


def test_dcmtk_mr_store_and_echo(mr_dcmtk: peers.PeerCapture) -> None:
    results = dissect_all(mr_dcmtk)
    assert len(results) == 2  # echoscu, then storescu
    everything = [o for _, obs in results for o in obs]
    assert kinds(everything, "dicom.modality") == {"MR"}
    versions = kinds(everything, "dicom.implementation_version")
    assert versions and all(v.startswith("OFFIS_DCMTK_") for v in versions)
    assert "C-ECHO-RQ" in kinds(everything, "dicom.command")
    assert {("modality", "c"), ("pacs_archive", "s")} <= {
        (o.value, side(o)) for o in everything if o.kind == "dicom.role"}


def test_worklist_and_mpps_roles(worklist: peers.PeerCapture, mwl_mpps: peers.PeerCapture) -> None:
    [(_, wl)] = dissect_all(worklist)
    assert {(o.value, side(o)) for o in wl if o.kind == "dicom.role"} == {
        ("worklist_client", "c"), ("worklist_server", "s")}
    [(_, mpps)] = dissect_all(mwl_mpps)
    roles = {(o.value, side(o)) for o in mpps if o.kind == "dicom.role"}
    assert {("worklist_client", "c"), ("mpps_client", "c"), ("mpps_server", "s")} <= roles
    assert "N-CREATE-RQ" in kinds(mpps, "dicom.command")
    assert not kinds(mpps, "dicom.modality")


def test_reject_and_abort(reject_abort: peers.PeerCapture, tshark: str) -> None:
    results = dissect_all(reject_abort)
    everything = [o for _, obs in results for o in obs]
    [reject] = [o for o in everything if o.kind == "dicom.reject"]
    assert side(reject) == "s"
    # tshark's numbers for the same RJ PDU; PS3.8 Table 9-21: result 1, source 1 (service-user), reason 7.
    rows = [r for r in _fields(tshark, reject_abort) if r[2] == "0x03"]
    assert [(int(r[12], 0), int(r[13], 0), int(r[14], 0)) for r in rows] == [(1, 1, 7)]
    assert reject.value == "rejected-permanent: service-user: called-AE-title-not-recognized"
    [abort] = [o for o in everything if o.kind == "dicom.abort"]
    assert side(abort) == "c" and abort.value == "service-user: reason-not-specified"
    assert kinds(everything, "dicom.calling_ae") == {"VIEWER"}
    assert kinds(everything, "dicom.called_ae") == {"NOT_THE_PACS", "PACS_ARCHIVE"}


def test_registry_selects_dicom_by_content_on_a_random_port(ct_store: peers.PeerCapture) -> None:
    registry = Registry.from_entry_points(["dicom", "hl7", "sdc"])
    [stream] = [s for s in tcp_streams(ct_store.pcap) if s.server[1] == ct_store.port]
    assert stream.server[1] not in DISSECTOR.ports
    chosen = registry.select(InputShape.STREAM, stream.client_bytes, stream.ctx())
    assert [d.name for d in chosen] == ["dicom"]
    app, obs = registry.dissect(InputShape.STREAM, stream.ctx(), stream.client_bytes, stream.server_bytes)
    assert app == "dicom" and kinds(obs, "dicom.modality") == {"CT"}


def test_truncated_budget_still_names_the_ends(ct_store: peers.PeerCapture) -> None:
    [stream] = [s for s in tcp_streams(ct_store.pcap) if s.server[1] == ct_store.port]
    cut = stream.client_bytes[:600]
    obs = list(DISSECTOR.dissect(stream.ctx(truncated=True), cut, stream.server_bytes[:300]))
    assert kinds(obs, "dicom.calling_ae") == {"CT_SCANNER"}
