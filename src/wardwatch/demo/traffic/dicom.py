"""DICOM upper layer PDUs (PS3.8 §9.3) and DIMSE messages (PS3.7 §9.3), encoded by pynetdicom.

Nothing here hand-assembles PDU bytes: associations, P-DATA-TF and release PDUs come from
``pynetdicom.pdu`` encoders fed with ``pdu_primitives``; DIMSE command sets come from
``pynetdicom.dimse_messages``; data sets are encoded by pydicom.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom.dimse_messages import (
    C_ECHO_RQ,
    C_ECHO_RSP,
    C_FIND_RQ,
    C_FIND_RSP,
    C_STORE_RQ,
    C_STORE_RSP,
    DIMSEMessage,
)
from pynetdicom.dimse_primitives import C_ECHO, C_FIND, C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.pdu import (
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
)
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    A_RELEASE,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import PresentationContext

APP_CONTEXT = "1.2.840.10008.3.1.1.1"  # PS3.7 Annex A.2.1
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
VERIFICATION = "1.2.840.10008.1.1"
MWL_FIND = "1.2.840.10008.5.1.4.31"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
MPPS = "1.2.840.10008.3.1.2.3.3"
STORAGE_SOP = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
}
MAX_PDU = 16384

Context = tuple[int, str]  # (presentation context id, abstract syntax)


def _user_info(impl: tuple[str, str], max_pdu: int) -> list[Any]:
    ml = MaximumLengthNotification()
    ml.maximum_length_received = max_pdu
    ic = ImplementationClassUIDNotification()
    ic.implementation_class_uid = UID(impl[0])
    iv = ImplementationVersionNameNotification()
    iv.implementation_version_name = impl[1]
    return [ml, ic, iv]


def _assoc(calling: str, called: str) -> A_ASSOCIATE:
    a = A_ASSOCIATE()
    a.application_context_name = APP_CONTEXT
    a.calling_ae_title = calling
    a.called_ae_title = called
    return a


def associate_rq(calling: str, called: str, abstracts: Sequence[str], impl: tuple[str, str],
                 max_pdu: int = MAX_PDU) -> tuple[bytes, list[Context]]:
    """A-ASSOCIATE-RQ (PS3.8 §9.3.2) proposing each abstract syntax with implicit and explicit LE."""
    a = _assoc(calling, called)
    contexts: list[PresentationContext] = []
    for i, abstract in enumerate(abstracts):
        cx = PresentationContext()
        cx.context_id = 2 * i + 1  # odd ids, PS3.8 §9.3.2.2
        cx.abstract_syntax = UID(abstract)
        cx.transfer_syntax = [UID(EXPLICIT_LE), UID(IMPLICIT_LE)]
        contexts.append(cx)
    a.presentation_context_definition_list = contexts
    a.user_information = _user_info(impl, max_pdu)
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(a)
    return pdu.encode(), [(2 * i + 1, s) for i, s in enumerate(abstracts)]


def associate_ac(calling: str, called: str, contexts: Sequence[Context], impl: tuple[str, str],
                 max_pdu: int = MAX_PDU) -> bytes:
    """A-ASSOCIATE-AC (PS3.8 §9.3.3) accepting every context with implicit VR little endian."""
    a = _assoc(calling, called)
    a.result = 0
    results: list[PresentationContext] = []
    for cid, abstract in contexts:
        cx = PresentationContext()
        cx.context_id = cid
        cx.abstract_syntax = UID(abstract)
        cx.transfer_syntax = [UID(IMPLICIT_LE)]
        cx.result = 0
        results.append(cx)
    a.presentation_context_definition_results_list = results
    a.user_information = _user_info(impl, max_pdu)
    pdu = A_ASSOCIATE_AC()
    pdu.from_primitive(a)
    return pdu.encode()


def associate_rj_calling_ae() -> bytes:
    """A-ASSOCIATE-RJ: rejected-permanent, service-user, calling-AE-title-not-recognized (PS3.8 §9.3.4)."""
    a = _assoc("UNKNOWN", "UNKNOWN")
    a.result = 0x01
    a.result_source = 0x01
    a.diagnostic = 0x03
    pdu = A_ASSOCIATE_RJ()
    pdu.from_primitive(a)
    return pdu.encode()


def release_rq() -> bytes:
    """A-RELEASE-RQ (PS3.8 §9.3.6)."""
    pdu = A_RELEASE_RQ()
    pdu.from_primitive(A_RELEASE())
    return pdu.encode()


def release_rp() -> bytes:
    """A-RELEASE-RP (PS3.8 §9.3.7)."""
    prim = A_RELEASE()
    prim.result = "affirmative"
    pdu = A_RELEASE_RP()
    pdu.from_primitive(prim)
    return pdu.encode()


def p_data(message: DIMSEMessage, context_id: int, max_pdu: int = MAX_PDU) -> bytes:
    """The P-DATA-TF PDUs (PS3.8 §9.3.5) carrying one DIMSE message, concatenated."""
    out = bytearray()
    for prim in message.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(prim)
        out += pdu.encode()
    return bytes(out)


def echo(message_id: int, context_id: int) -> tuple[bytes, bytes]:
    """C-ECHO-RQ and its success C-ECHO-RSP (PS3.7 §9.3.5)."""
    rq = C_ECHO()
    rq.MessageID = message_id
    rq.AffectedSOPClassUID = VERIFICATION
    m = C_ECHO_RQ()
    m.primitive_to_message(rq)
    rsp = C_ECHO()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = VERIFICATION
    rsp.Status = 0x0000
    r = C_ECHO_RSP()
    r.primitive_to_message(rsp)
    return p_data(m, context_id), p_data(r, context_id)


def encode_dataset(ds: Dataset) -> bytes:
    """A data set in implicit VR little endian (the accepted transfer syntax)."""
    encoded = encode(ds, True, True)
    if encoded is None:
        raise ValueError("data set could not be encoded")
    return encoded


def store(message_id: int, context_id: int, sop_class: str, sop_instance: str, dataset: bytes,
          calling: str, max_pdu: int = MAX_PDU) -> tuple[bytes, bytes]:
    """C-STORE-RQ with its data set and the success C-STORE-RSP (PS3.7 §9.3.1)."""
    rq = C_STORE()
    rq.MessageID = message_id
    rq.AffectedSOPClassUID = sop_class
    rq.AffectedSOPInstanceUID = sop_instance
    rq.Priority = 2
    rq.MoveOriginatorApplicationEntityTitle = calling
    rq.DataSet = io.BytesIO(dataset)
    m = C_STORE_RQ()
    m.primitive_to_message(rq)
    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = sop_class
    rsp.AffectedSOPInstanceUID = sop_instance
    rsp.Status = 0x0000
    r = C_STORE_RSP()
    r.primitive_to_message(rsp)
    return p_data(m, context_id, max_pdu), p_data(r, context_id)


def find(message_id: int, context_id: int, sop_class: str, query: bytes, matches: Sequence[bytes]) -> tuple[
        bytes, bytes]:
    """C-FIND-RQ and the responses: one Pending (0xFF00) per match, then Success (PS3.7 §9.3.2)."""
    rq = C_FIND()
    rq.MessageID = message_id
    rq.AffectedSOPClassUID = sop_class
    rq.Priority = 2
    rq.Identifier = io.BytesIO(query)
    m = C_FIND_RQ()
    m.primitive_to_message(rq)
    out = b""
    for status, ident in [(0xFF00, x) for x in matches] + [(0x0000, None)]:
        rsp = C_FIND()
        rsp.MessageIDBeingRespondedTo = message_id
        rsp.AffectedSOPClassUID = sop_class
        rsp.Status = status
        if ident is not None:
            rsp.Identifier = io.BytesIO(ident)
        r = C_FIND_RSP()
        r.primitive_to_message(rsp)
        out += p_data(r, context_id)
    return p_data(m, context_id), out


@lru_cache(maxsize=8)
def pixel_block(rows: int, cols: int) -> bytes:
    """A deterministic 16-bit test pattern (a gradient), ``rows`` × ``cols``."""
    return bytes(((r + c) * 7) & 0xFF for r in range(rows) for c in range(cols * 2))
