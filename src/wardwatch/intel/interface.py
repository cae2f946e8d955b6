"""The shape every intel source shares (after pip-audit's ``interface.py``): protocol, errors, values.

An importer is sans-I/O apart from reading the one file it is given: :meth:`Importer.sniff` says from
the first bytes (and, for JSON, the decoded top level) whether the file is its kind; :meth:`Importer.parse`
reads the whole file into an :class:`ImportBatch` of domain records, or raises
:class:`~wardwatch.errors.ImportRejectedError` naming the file and the field. Nothing is stored by an
importer: the knowledge base writes a whole batch in one transaction, so a rejected file leaves it as it
was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wardwatch.domain.advisory import Advisory, EpssScore, KevEntry, Mds2Profile, Sbom, SsvcDecision
from wardwatch.errors import ImportRejectedError


@dataclass(frozen=True, slots=True)
class Problem:
    """A field that could not be interpreted (the import goes on; the report lists it)."""

    file: str
    path: str  # JSON path / cell / column, e.g. $.product_tree.branches[0].branches[1].name
    message: str
    value: str = ""


@dataclass(slots=True)
class ImportBatch:
    """Everything one file yields, written to the knowledge base as one unit."""

    source: str
    file: str
    feed_timestamp: str | None = None
    advisories: list[Advisory] = field(default_factory=list)
    kev: list[KevEntry] = field(default_factory=list)
    epss: list[EpssScore] = field(default_factory=list)
    ssvc: list[SsvcDecision] = field(default_factory=list)
    sboms: list[Sbom] = field(default_factory=list)
    mds2: list[Mds2Profile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, path: str, message: str, value: object = "") -> None:
        """Record an uninterpretable field."""
        self.problems.append(Problem(self.file, path, message, str(value)[:200]))

    @property
    def size(self) -> int:
        """How many records the batch holds."""
        return len(self.advisories) + len(self.kev) + len(self.epss) + len(self.ssvc) + len(self.sboms) + len(self.mds2)


class Importer(Protocol):
    """One intel source: recognise its files and parse them into an :class:`ImportBatch`."""

    name: str

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """True when the file is this source's kind (``document`` is the decoded JSON, if JSON)."""
        ...

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Read the whole file; raise ImportRejectedError naming the file and field when malformed."""
        ...


def reject(path: Path | str, where: str, message: str) -> ImportRejectedError:
    """The one error of a malformed file: ``<file>: <field>: <message>``."""
    return ImportRejectedError(f"{path}: {where}: {message}")


def load_json(path: Path, document: Any | None) -> Any:
    """``document`` when the caller already decoded the file, else the file's JSON (rejected when not JSON)."""
    if document is not None:
        return document
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise reject(path, "$", f"not JSON: {exc}") from exc


def require(obj: Any, key: str, kind: type | tuple[type, ...], path: Path | str, where: str) -> Any:
    """``obj[key]`` checked to be of ``kind``, else an ImportRejectedError naming ``where.key``."""
    if not isinstance(obj, dict):
        raise reject(path, where, f"expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise reject(path, f"{where}.{key}", "required field missing")
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise reject(path, f"{where}.{key}", f"expected {names}, got {type(value).__name__}")
    return value


def optional(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path | str, where: str) -> Any:
    """``obj.get(key)`` checked to be of ``kind`` when present (``None`` when absent)."""
    if key not in obj or obj[key] is None:
        return None
    return require(obj, key, kind, path, where)
