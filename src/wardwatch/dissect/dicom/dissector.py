"""The DICOM and DICOM-TLS dissectors (see the package docstring for the kinds they emit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._medical.emit import Emitter
from wardwatch.dissect.dicom import pdu as P
from wardwatch.dissect.dicom.dimse import Command, commands
from wardwatch.dissect.dicom.infer import modality_of, roles_of, sop_name
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

#: Confidence of a role/modality seen in a DIMSE request, and of one guessed from proposals alone.
CONF_COMMAND = 0.9
CONF_PROPOSAL = 0.5
#: A requestor proposing more abstract syntaxes than this is a generic SCU: its proposals say nothing.
MAX_TELLING_PROPOSALS = 16
#: The Verification SOP Class (PS3.4 Annex A) says nothing about a role.
VERIFICATION = "1.2.840.10008.1.1"


def looks_like_associate_rq(data: bytes) -> bool:
    """PS3.8 §9.3.2: PDU type 0x01, reserved 0x00, a 4-byte length of at least the fixed part, and
    protocol version 0x0001 (bit 0 set) in the first bytes of the client direction."""
    return (
        len(data) >= 10
        and data[0] == P.A_ASSOCIATE_RQ
        and data[1] == 0
        and int.from_bytes(data[2:6], "big") >= P.ASSOC_FIXED
        and data[6:8] == b"\x00\x01"
    )


class DicomDissector:
    """DICOM upper layer (PS3.8 §9.3) with the DIMSE command set (PS3.7 §9.3, §10.3)."""

    name: ClassVar[str] = "dicom"
    shape: ClassVar[InputShape] = InputShape.STREAM
    #: 104 is the registered port, 11112 the IANA "dicom" port used by most installations.
    ports: ClassVar[frozenset[int]] = frozenset({104, 11112})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """An A-ASSOCIATE-RQ at the start of the client direction, on any port."""
        return looks_like_associate_rq(data)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Identity of both ends: AE titles, implementation, SOP classes, commands, role and modality."""
        c_pdus = P.split_pdus(client) if client else []
        s_pdus = P.split_pdus(server) if server else []
        first_c = c_pdus[0][0] if c_pdus else None
        first_s = s_pdus[0][0] if s_pdus else None
        if first_c != P.A_ASSOCIATE_RQ and not (
            first_c is None and first_s in (P.A_ASSOCIATE_AC, P.A_ASSOCIATE_RJ)
        ):
            raise ParseError("not a DICOM association: the client does not start with A-ASSOCIATE-RQ")
        em = Emitter(ctx)
        emit = em.emit
        rq = P.decode_associate(c_pdus[0]) if first_c is not None else None
        if rq is not None:
            self._associate(em, rq, about_server=False)
        for pdu in s_pdus:
            kind = pdu[0]
            if kind == P.A_ASSOCIATE_AC:
                ac = P.decode_associate(pdu)
                self._associate(em, ac, about_server=True)
                if rq is not None:
                    self._accepted(em, rq, ac)
            elif kind == P.A_ASSOCIATE_RJ:
                reject = P.decode_reject(pdu)
                emit("dicom.reject", reject.text(), about_server=True, excerpt=f"A-ASSOCIATE-RJ {reject.text()}")
        for side, pdus in ((False, c_pdus), (True, s_pdus)):
            for pdu in pdus:
                if pdu[0] == P.A_ABORT and pdu[2]:
                    emit("dicom.abort", P.decode_abort(pdu), about_server=side)
        client_cmds = commands(c_pdus)
        server_cmds = commands(s_pdus)
        for side, cmds in ((False, client_cmds), (True, server_cmds)):
            # The first command of each name only: the emitter drops the others (same kind and value).
            named: set[str] = set()
            for cmd in cmds:
                if cmd.name not in named:
                    named.add(cmd.name)
                    emit("dicom.command", cmd.name, about_server=side,
                         excerpt=f"{cmd.name} {sop_name(cmd.sop_class)}".strip())
        # Requests (Command Field without the 0x8000 response bit) about a SOP class other than
        # Verification; a repeated (SOP class, command) says again what its first occurrence said.
        requests: dict[tuple[str, str], Command] = {}
        for cmd in client_cmds:
            if not cmd.field & 0x8000 and cmd.sop_class and cmd.sop_class != VERIFICATION:
                requests.setdefault((cmd.sop_class, cmd.name), cmd)
        if requests:
            found = list(requests.values())
            self._infer(em, [c.sop_class for c in found], CONF_COMMAND, found)
        elif rq is not None:
            telling = sorted({u for u in rq.proposed.values() if u and u != VERIFICATION})
            if 0 < len(telling) <= MAX_TELLING_PROPOSALS:
                self._infer(em, telling, CONF_PROPOSAL, None)
        return iter(em.out)

    @staticmethod
    def _associate(em: Emitter, assoc: P.Associate, *, about_server: bool) -> None:
        """AE titles (from the RQ), implementation identity and max PDU of the side that sent it."""
        label = P.PDU_NAMES[assoc.kind]
        if not about_server:
            excerpt = f"{label} calling AE {assoc.calling_ae!r} called AE {assoc.called_ae!r}"
            em.emit("dicom.calling_ae", assoc.calling_ae, excerpt=excerpt)
            em.emit("dicom.called_ae", assoc.called_ae, about_server=True, excerpt=excerpt)
            # Each UID once (an SCU may propose one abstract syntax in several contexts; the emitter
            # would drop the repeats after their excerpt was built).
            for uid in dict.fromkeys(list(assoc.proposed.values())[: P.MAX_ITEMS]):
                em.emit("dicom.proposed_sop", uid, excerpt=f"proposed {sop_name(uid)}")
        impl = f"{label} implementation {assoc.implementation_uid} {assoc.implementation_version}"
        em.emit("dicom.implementation_uid", assoc.implementation_uid, about_server=about_server,
                excerpt=impl)
        em.emit("dicom.implementation_version", assoc.implementation_version, about_server=about_server,
                excerpt=impl)
        if assoc.max_pdu is not None:
            em.emit("dicom.max_pdu", str(assoc.max_pdu), about_server=about_server,
                    excerpt=f"{label} maximum length {assoc.max_pdu}")

    @staticmethod
    def _accepted(em: Emitter, rq: P.Associate, ac: P.Associate) -> None:
        """Abstract syntaxes the acceptor took: AC context IDs mapped back to the RQ (PS3.8 §9.3.3.2)."""
        for pcid, result in ac.results.items():
            uid = rq.proposed.get(pcid)
            if uid and result == 0:
                em.emit("dicom.accepted_sop", uid, about_server=True,
                        excerpt=f"accepted context {pcid} {sop_name(uid)}")

    @staticmethod
    def _infer(em: Emitter, uids: list[str], confidence: float, cmds: list[Command] | None) -> None:
        """Role of each end and modality of the requestor from the SOP classes it asked for."""
        for n, uid in enumerate(uids):
            why = f"{cmds[n].name} {sop_name(uid)}" if cmds else f"proposed {sop_name(uid)}"
            roles = roles_of(uid)
            if roles is not None:
                em.emit("dicom.role", roles.client, excerpt=why, confidence=confidence)
                em.emit("dicom.role", roles.server, about_server=True, excerpt=why,
                        confidence=confidence - 0.1)
            if cmds is None or cmds[n].name == "C-STORE-RQ":
                found = modality_of(uid)
                if found is not None:
                    em.emit("dicom.modality", found[0], excerpt=why,
                            confidence=confidence if found[1] else confidence / 2)


def looks_like_tls_record(data: bytes) -> bool:
    """A TLS handshake record header (RFC 8446 §5.1): content type 22, legacy version 3.x."""
    return len(data) >= 5 and data[0] == 0x16 and data[1] == 0x03 and data[2] <= 0x04


class DicomTlsDissector:
    """DICOM over TLS on its registered port 2762 (PS3.15 Annex B.1, "dicom-tls").

    The content is encrypted: this only labels the flow and both ends; the TLS dissector reads the
    handshake (server name, certificate) of the same flow.
    """

    name: ClassVar[str] = "dicom-tls"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset({2762})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """A TLS record from the client to port 2762."""
        return ctx.dst_port in self.ports and looks_like_tls_record(data)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """``dicom.tls`` = ``true`` about the server (and the client) of a TLS flow on port 2762."""
        if ctx.dst_port not in self.ports or not looks_like_tls_record(client):
            raise ParseError("not a TLS record on the DICOM-TLS port")
        confidence = 0.8 if looks_like_tls_record(server) else 0.6
        em = Emitter(ctx)
        why = f"TLS handshake on port {ctx.dst_port} (DICOM-TLS, PS3.15 B.1)"
        em.emit("dicom.tls", "true", about_server=True, excerpt=why, confidence=confidence)
        em.emit("dicom.tls", "true", excerpt=why, confidence=confidence)
        return iter(em.out)
