"""Vendor version strings: a total order, and version expressions (vers and free text).

Medical-device vendors number releases in many ways: ``4.1.2.21``, ``V2.0 SP3``, ``9.1b``, ``R3.1``,
``2019.1``, ``B.06.18``, ``1.1.3 Build 10``. :func:`parse_version` splits any string into tokens and
gives a sort key with these rules (close to RPM's ``rpmvercmp`` and Debian policy §5.6.12, plus the
pre-release words of SemVer 2.0.0 §11):

* separators (``.``, ``-``, ``_``, space, ``/``, ``+``) only split; digits and letters split each other;
* numbers compare numerically (``01`` = ``1``), trailing zero numbers are dropped (``1.0`` = ``1``);
* a leading ``v``/``ver``/``version``/``r``/``rel``/``release``/``rev`` before a digit is dropped;
* pre-release words (alpha, beta, rc, pre, preview, dev) sort *before* the end of a version
  (``2.0rc1 < 2.0``); any other word (``sp``, ``build``, a letter suffix) sorts *after* it
  (``2.0 < 2.0 SP3 < 2.1``, ``9.1 < 9.1b``);
* at one position: pre-release word < end < other word < number.

Version *expressions* (:func:`parse_spec`) accept the Package-URL ``vers`` form
(``vers:generic/>=1.0|<2.0``, ``vers:all/*``) and the free text of advisories (``< 3.2``,
``All versions``, ``versions prior to 4.1``, ``4.x``, ``>= 2.0 | <= 3.0``, ``1.1 | 1.2``). Anything else
raises :class:`VersionSpecError` (the caller keeps the text and reports it as uninterpretable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache, total_ordering

from wardwatch.errors import WardwatchError

_TOKEN = re.compile(r"[0-9]+|[^\W0-9_]+")
_PREFIX = re.compile(r"^\s*(?:version|release|ver|rel|rev|v|r)\.?\s*(?=\d)", re.IGNORECASE)
_PRE_WORDS = frozenset({"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot"})
_SYNONYMS = {"servicepack": "sp", "service": "sp", "pack": "", "sr": "sp", "patch": "p", "update": "u"}
#: Inputs longer than this are not versions (bounded work on hostile input).
MAX_VERSION_LENGTH = 128

Token = tuple[int, int, str]


class VersionSpecError(WardwatchError):
    """A version expression could not be interpreted (the text is kept, the field reported)."""


def _tokens(text: str) -> list[str | int]:
    text = _PREFIX.sub("", text[:MAX_VERSION_LENGTH].casefold())
    out: list[str | int] = []
    for raw in _TOKEN.findall(text):
        if raw.isascii() and raw.isdigit():
            out.append(int(raw))
            continue
        word = _SYNONYMS.get(raw, raw)
        if word:
            out.append(word)
    return out


def _key(tokens: list[str | int]) -> tuple[Token, ...]:
    # A zero followed by a word or by the end adds nothing: 1.0 = 1, 1.0rc1 = 1rc1, 2.0 SP3 = 2 SP3.
    kept: list[str | int] = []
    for tok in reversed(tokens):
        if tok == 0 and (not kept or isinstance(kept[-1], str)):
            continue
        kept.append(tok)
    key: list[Token] = []
    for tok in reversed(kept):
        if isinstance(tok, int):
            key.append((3, tok, ""))
        elif tok in _PRE_WORDS:
            key.append((0, 0, tok))
        else:
            key.append((2, 0, tok))
    return tuple(key)


_END: Token = (1, 0, "")


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A parsed version: ``text`` as written, ``parts`` its raw tokens and ``key`` its sort key."""

    text: str
    parts: tuple[str | int, ...]
    key: tuple[Token, ...]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Version) -> bool:
        return compare_keys(self.key, other.key) < 0

    def has_prefix(self, prefix: tuple[str | int, ...]) -> bool:
        """True when the version starts with ``prefix`` (for wildcards such as ``4.x``)."""
        return self.parts[: len(prefix)] == prefix

    def __str__(self) -> str:
        return self.text


def compare_keys(a: tuple[Token, ...], b: tuple[Token, ...]) -> int:
    """-1, 0 or 1: ``a`` against ``b``, a missing position counting as the end of the version."""
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else _END
        y = b[i] if i < len(b) else _END
        if x != y:
            return -1 if x < y else 1
    return 0


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """Parse any string into a :class:`Version` (a string without digits or letters has the empty key)."""
    parts = tuple(_tokens(text))
    return Version(text.strip(), parts, _key(list(parts)))


def looks_like_version(text: str) -> bool:
    """True for strings that read as a version number (a digit near the start, few words)."""
    t = _PREFIX.sub("", text.strip())
    return bool(re.match(r"^[A-Za-z]{0,3}[.\-]?\d", t)) and len(t.split()) <= 4


class Outcome(StrEnum):
    """Whether an observed version satisfies a version expression."""

    IN = "in_range"
    OUT = "out_of_range"
    ALL = "all_versions"
    UNKNOWN = "unknown_version"


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of an interval; ``wildcard`` marks ``4.x``-style bounds (prefix semantics)."""

    version: Version
    inclusive: bool
    wildcard: bool = False


@dataclass(frozen=True, slots=True)
class Clause:
    """One alternative of a spec: all versions, one version, a wildcard prefix or an interval."""

    kind: str  # all, exact, prefix, interval, exclude
    version: Version | None = None
    low: Bound | None = None
    high: Bound | None = None

    def contains(self, v: Version) -> bool:
        """True when ``v`` satisfies this clause."""
        if self.kind == "all":
            return True
        if self.kind in ("exact", "exclude"):
            assert self.version is not None
            return v == self.version
        if self.kind == "prefix":
            assert self.version is not None
            return v.has_prefix(self.version.parts)
        return _above(v, self.low) and _below(v, self.high)


def _above(v: Version, b: Bound | None) -> bool:
    if b is None:
        return True
    if b.wildcard and v.has_prefix(b.version.parts):
        return b.inclusive
    c = compare_keys(v.key, b.version.key)
    return c > 0 or (c == 0 and b.inclusive)


def _below(v: Version, b: Bound | None) -> bool:
    if b is None:
        return True
    if b.wildcard and v.has_prefix(b.version.parts):
        return b.inclusive
    c = compare_keys(v.key, b.version.key)
    return c < 0 or (c == 0 and b.inclusive)


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """A parsed version expression: the union of its clauses, less its exclusions."""

    text: str
    clauses: tuple[Clause, ...]
    note: str = ""  # text that was dropped (a parenthetical, "on Windows 8.1" ...)

    @property
    def is_all(self) -> bool:
        """True when every version is included."""
        return any(c.kind == "all" for c in self.clauses)

    def evaluate(self, observed: str | None) -> Outcome:
        """Whether ``observed`` (``None`` when unknown) satisfies the spec."""
        if self.is_all and not any(c.kind == "exclude" for c in self.clauses):
            return Outcome.ALL
        if observed is None or not observed.strip():
            return Outcome.UNKNOWN
        v = parse_version(observed)
        if any(c.kind == "exclude" and c.contains(v) for c in self.clauses):
            return Outcome.OUT
        if any(c.kind != "exclude" and c.contains(v) for c in self.clauses):
            return Outcome.IN
        return Outcome.OUT


_OPS = (">=", "<=", "!=", "=>", "=<", "<", ">", "=")
_BEFORE = re.compile(
    r"^(?:all\s+)?(?:versions?\s+|firmware\s+|software\s+)?(?:prior\s+to|before|earlier\s+than|below|older\s+than)\s+(.+)$"
)
_AND_BELOW = re.compile(r"^(.+?)\s+(?:and|or)\s+(?:below|earlier|prior|older|lower|before)$")
_AND_ABOVE = re.compile(r"^(.+?)\s+(?:and|or)\s+(?:above|later|newer|higher|greater)$")
_ALL = re.compile(r"^(?:\*|all|all\s+versions?|any|any\s+versions?|vers:all/\*|all\s+releases)$")
_VERSION_WORD = re.compile(
    r"^[a-z]{0,4}[.\-]?\d[\w.\-]*(?:\s+(?:sp|sr|service\s+pack|build|mr\s+build|patch|update|d)\s*\d+)?",
    re.IGNORECASE,
)
_LETTER_VERSION = re.compile(r"^[a-z](?:\.\d[\w.]*)?$|^[a-z]{1,2}\d[\w.\-]*$", re.IGNORECASE)
MAX_SPEC_LENGTH = 512


def _version_or_wildcard(text: str) -> tuple[Version, bool, str]:
    """Split ``text`` into (version, is_wildcard, dropped trailing text); raise when no version."""
    t = text.strip()
    m = _VERSION_WORD.match(t) or _LETTER_VERSION.match(t.split()[0] if t.split() else "")
    if m is None:
        raise VersionSpecError(f"no version in {text!r}")
    word = m.group(0).strip()
    rest = t[len(word) :].strip() if t.startswith(word) else " ".join(t.split()[1:])
    wild = re.search(r"(?:[.\-](?:x|\*))+$", word, re.IGNORECASE)
    if wild:
        word = word[: wild.start()]
        if not word:
            raise VersionSpecError(f"bare wildcard in {text!r}")
    return parse_version(word), bool(wild), rest


def _clause(text: str) -> tuple[Clause, str]:
    t = " ".join(text.casefold().split())
    if not t:
        raise VersionSpecError("empty alternative")
    if _ALL.match(t):
        return Clause("all"), ""
    if t.startswith("* ") or t.startswith("all versions "):  # "* running on old ... Windows 2000"
        return Clause("all"), t.partition(" ")[2] if t.startswith("*") else t[13:]
    for pattern, op in ((_BEFORE, "<"), (_AND_BELOW, "<="), (_AND_ABOVE, ">=")):
        m = pattern.match(t)
        if m:
            return _clause(f"{op} {m.group(1)}")
    for op in _OPS:
        if t.startswith(op):
            version, wild, rest = _version_or_wildcard(t[len(op) :])
            op = {"=>": ">=", "=<": "<="}.get(op, op)
            if op == "=":
                return Clause("prefix" if wild else "exact", version=version), rest
            if op == "!=":
                return Clause("exclude", version=version), rest
            bound = Bound(version, "=" in op, wild)
            if op.startswith("<"):
                return Clause("interval", high=bound), rest
            return Clause("interval", low=bound), rest
    m = re.match(r"^(.+?)\s*(<=|<)\s*(.+)$", t)  # "A.01 <= C.0x", "A10 < A11": first < v <(=) second
    if m and looks_like_version(m.group(1)):
        low, _, _ = _version_or_wildcard(m.group(1))
        high, wild, rest = _version_or_wildcard(m.group(3))
        return Clause("interval", low=Bound(low, True), high=Bound(high, m.group(2) == "<=", wild)), rest
    version, wild, rest = _version_or_wildcard(t)
    return Clause("prefix" if wild else "exact", version=version), rest


def _merge(clauses: list[Clause]) -> list[Clause]:
    """Pair a lone lower bound with the next lone upper bound (vers semantics: ``>=1.0|<2.0``)."""
    out: list[Clause] = []
    for c in clauses:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == "interval"
            and prev.high is None
            and c.kind == "interval"
            and c.low is None
        ):
            out[-1] = Clause("interval", low=prev.low, high=c.high)
        else:
            out.append(c)
    return out


@lru_cache(maxsize=16384)
def parse_spec(text: str) -> VersionSpec:
    """Parse a version expression (vers or free text) into a :class:`VersionSpec`.

    Raises :class:`VersionSpecError` when the text gives no usable version (dates such as
    ``< august 28``, prose). A parenthetical and words after the version are dropped into ``note``.
    """
    if len(text) > MAX_SPEC_LENGTH:
        raise VersionSpecError("version expression too long")
    t = text.strip()
    notes: list[str] = []
    if t.casefold().startswith("vers:"):
        scheme, _, constraints = t[5:].partition("/")
        if not scheme or not _:
            raise VersionSpecError(f"vers without scheme/constraints: {text!r}")
        t = constraints
    else:
        # drop parentheticals (possibly unbalanced at the end), keep them as a note
        stripped = t
        while (m := re.search(r"\([^()]*\)", stripped)) is not None:
            notes.append(m.group(0))
            stripped = stripped[: m.start()] + stripped[m.end() :]
        if "(" in stripped:
            head, _, tail = stripped.partition("(")
            notes.append("(" + tail)
            stripped = head
        t = stripped
    parts = [p for p in re.split(r"\s*\|\s*|\s*,\s*(?=[<>=!])|\s+and\s+(?=[<>=\d])", t) if p.strip()]
    if not parts:
        raise VersionSpecError(f"empty version expression: {text!r}")
    clauses: list[Clause] = []
    for part in parts:
        clause, rest = _clause(part)
        if rest:
            notes.append(rest)
        clauses.append(clause)
    return VersionSpec(text, tuple(_merge(clauses)), "; ".join(n.strip() for n in notes if n.strip()))
