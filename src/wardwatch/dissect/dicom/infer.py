"""Role and modality of the two ends of a DICOM association, from SOP classes and direction.

PS3.4 defines each service by an SCU and an SCP role; in the common services the association requestor
(the client) is the SCU. So a client that sends C-STORE-RQ of CT Image Storage is a CT modality and the
acceptor a PACS/archive; a client doing C-FIND of the Modality Worklist information model is a worklist
client, one doing C-MOVE/C-GET a workstation or viewer. The tables are data
(``dissect/_medical/dicom_sop.toml``); SOP class names and service classes come from pydicom's and
pynetdicom's dictionaries, not from hand-kept UID lists.

Importing those two libraries costs a process ~0.3 s of CPU, as much as dissecting thousands of
associations, so their answers for every UID they know are shipped as a generated table
(``uid_table.json``, written by :mod:`wardwatch.dissect.dicom.gen_uid_table`), read once on the first
lookup. Only a UID the table does not hold (a private SOP class, or one a newer library added) imports
the libraries, so every answer is still exactly theirs. Each answer is kept per UID (an association
names the same few classes again and again).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import NamedTuple

#: Distinct UIDs whose answers are kept (a hostile peer inventing UIDs only evicts old answers).
UID_CACHE = 4096


@dataclass(frozen=True, slots=True)
class ModalityRule:
    """A pydicom keyword pattern and the modality (PS3.3 C.7.3.1.1.1) its classes belong to."""

    pattern: re.Pattern[str]
    modality: str
    acquisition: bool


@dataclass(frozen=True, slots=True)
class Roles:
    """What the requestor (client) and the acceptor (server) of one service are called."""

    client: str
    server: str


@cache
def _tables() -> tuple[tuple[ModalityRule, ...], dict[str, Roles]]:
    text = files("wardwatch.dissect._medical").joinpath("dicom_sop.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    rules = tuple(
        ModalityRule(re.compile(m["pattern"]), m["modality"], bool(m["acquisition"]))
        for m in data["modality"]
    )
    roles = {name: Roles(r["client"], r["server"]) for name, r in data["roles"].items()}
    return rules, roles


#: A UID (PS3.5 §9.1): numeric components without leading zeros, separated by single dots.
_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")


def _valid_uid(uid: str) -> bool:
    """True for a well-formed UID of at most 64 characters (PS3.5 §9.1); pydicom warns on others."""
    return len(uid) <= 64 and _UID.fullmatch(uid) is not None


class UidFacts(NamedTuple):
    """What pydicom and pynetdicom say about one UID."""

    name: str  #: ``pydicom.uid.UID(uid).name``: the dictionary name, or the UID itself when unknown
    keyword: str  #: ``pydicom.uid.UID(uid).keyword``: ``CTImageStorage``, "" when unknown
    service: str  #: ``pynetdicom.sop_class.uid_to_service_class(uid).__name__``, "" if that raises


#: The generated table, next to this module (package data).
TABLE_FILE = "uid_table.json"


def library_facts(uid: str) -> UidFacts:
    """The libraries' own answers for a well-formed ``uid`` (imports pydicom and pynetdicom)."""
    from pydicom.uid import UID
    from pynetdicom.sop_class import uid_to_service_class

    found = UID(uid)
    try:
        service = str(uid_to_service_class(uid).__name__)
    except Exception:  # pynetdicom raises on a few malformed UIDs; unknown is the honest answer
        service = ""
    return UidFacts(str(found.name), str(found.keyword), service)


@cache
def uid_table() -> dict[str, UidFacts]:
    """The shipped table: UID → the libraries' answers, for every UID they knew when it was generated."""
    text = files("wardwatch.dissect.dicom").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return {uid: UidFacts(*facts) for uid, facts in json.loads(text)["uids"].items()}


def _facts(uid: str) -> UidFacts:
    """The table's answers for a well-formed ``uid``, the libraries' for a UID it does not hold."""
    found = uid_table().get(uid)
    return found if found is not None else library_facts(uid)


@lru_cache(maxsize=UID_CACHE)
def sop_name(uid: str) -> str:
    """pydicom's name of a SOP class (``CT Image Storage``), or the UID itself when unknown."""
    if not _valid_uid(uid):
        return uid
    return _facts(uid).name


@lru_cache(maxsize=UID_CACHE)
def modality_of(uid: str) -> tuple[str, bool] | None:
    """(modality, acquisition) of a storage SOP class, or ``None`` for other classes."""
    if not _valid_uid(uid):
        return None
    keyword = _facts(uid).keyword
    if not keyword:
        return None
    for rule in _tables()[0]:
        if rule.pattern.search(keyword):
            return rule.modality, rule.acquisition
    return None


@lru_cache(maxsize=UID_CACHE)
def service_of(uid: str) -> str:
    """pynetdicom's service class name of a SOP class (``StorageServiceClass``), "" when unknown."""
    if not _valid_uid(uid):
        return ""
    return _facts(uid).service


@lru_cache(maxsize=UID_CACHE)
def roles_of(uid: str) -> Roles | None:
    """Requestor and acceptor roles for a SOP class a client *requests*; acquisition storage → modality."""
    service = service_of(uid)
    roles = _tables()[1].get(service)
    if roles is None:
        return None
    if service == "StorageServiceClass":
        found = modality_of(uid)
        if found is not None and found[1]:
            return Roles("modality", roles.server)
    return roles
