"""The fingerprint rule engine: device-family rules as data (``identify/rules/*.toml``).

A rule file describes ONE device family (``[family]``: id, name, clinical, sources) and one or more
``[[rule]]`` tables. A rule fires on the facts of one device (``kind -> values``, the Observation
kinds of ``dissect/*``, e.g. ``dhcp.vendor_class``, ``dicom.implementation_version``, ``mac.vendor``)::

    [[rule]]
    id = "philips-intellivue.monitor"      # unique, prefixed by the family id
    confidence = 0.8                        # when the conditions hold
    attributes = { device_class = "patient_monitor", vendor = "Philips", model = "IntelliVue {model}" }
    all = [ { kind = "mac.vendor", contains = "philips medical systems" } ]   # every one must hold
    any = [ { kind = "dhcp.hostname", regex = "^(?P<model>mx\\d{3})" } ]     # at least one (if given)
    none = [ { kind = "mac.vendor", contains = "lighting" } ]                  # none may hold
    support = [ { kind = "http.server", prefix = "intellivue", weight = 0.1 } ] # raise confidence

A condition names a ``kind`` (or a glob such as ``mdns.txt.*``) and one operator: ``equals``,
``contains``, ``prefix`` (all case-insensitive) or ``regex`` (case-insensitive ``re.search``; anchor
with ``^``/``$``). In place of a condition, ``{ all = [...] }`` / ``{ any = [...] }`` nest. Regex named
groups fill ``{name}`` placeholders of attribute templates; an attribute whose placeholder is unfilled
is left out. Attributes: device_class (a taxonomy class), vendor, model, os, firmware, software, role,
modality.

Regexes are precompiled at load, bounded in length, and refused when they nest quantifiers
(``(a+)+``, the classic catastrophic backtracking shape); values are matched on at most
``MAX_VALUE`` characters. Rules are indexed by the kinds they need, so a device only meets the rules
that could fire on it.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wardwatch.domain.observation import MAX_VALUE
from wardwatch.errors import WardwatchError
from wardwatch.identify.taxonomy import default_taxonomy

ATTRIBUTES = frozenset({"device_class", "vendor", "model", "os", "firmware", "software", "role", "modality"})
OPERATORS = ("equals", "contains", "prefix", "regex")
MAX_REGEX = 256
#: a quantified group that itself contains a quantifier: (a+)+, (\w*)*, (x+){2,}
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_KIND = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_*\-]+)+$")


class RuleError(WardwatchError):
    """A rule file is invalid; the message names the file and the field (all problems, one per line)."""


@dataclass(frozen=True)
class RuleMatch:
    """One rule that fired on one device: what it concludes, how sure, and which facts fired it."""

    rule_id: str
    attributes: Mapping[str, str]
    confidence: float
    matched: tuple[tuple[str, str], ...]


Fact = tuple[str, str]


class _Facts:
    """The facts of one device with per-kind sorted values and glob expansion, computed lazily."""

    __slots__ = ("_globs", "_lower", "_sorted", "facts")

    def __init__(self, facts: Mapping[str, Collection[str]]) -> None:
        self.facts = facts
        self._sorted: dict[str, list[str]] = {}
        self._lower: dict[str, list[str]] = {}
        self._globs: dict[str, list[str]] = {}

    def values(self, kind: str) -> list[str]:
        got = self._sorted.get(kind)
        if got is None:
            got = sorted(v[:MAX_VALUE] for v in self.facts.get(kind, ()) if isinstance(v, str))
            self._sorted[kind] = got
        return got

    def lowered(self, kind: str) -> list[str]:
        got = self._lower.get(kind)
        if got is None:
            got = [v.lower() for v in self.values(kind)]
            self._lower[kind] = got
        return got

    def joined(self, kind: str) -> str:
        """All lower-cased values of ``kind`` in one string (a cheap literal pre-filter)."""
        return "\x00".join(self.lowered(kind))

    def kinds(self, glob: str) -> list[str]:
        got = self._globs.get(glob)
        if got is None:
            got = sorted(k for k in self.facts if fnmatch.fnmatchcase(k, glob))
            self._globs[glob] = got
        return got


@dataclass(frozen=True)
class Condition:
    """One test of one kind (or kind glob) with one operator; ``weight`` counts in ``support``."""

    kind: str
    op: str
    needle: str
    pattern: re.Pattern[str] | None = None
    weight: float = 0.0
    is_glob: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_glob", any(c in self.kind for c in "*?["))

    def test(self, facts: _Facts) -> tuple[Fact, dict[str, str]] | None:
        """The first (kind, value) that satisfies this condition and the regex groups it captured."""
        for kind in facts.kinds(self.kind) if self.is_glob else (self.kind,):
            if self.pattern is not None:
                for value in facts.values(kind):
                    m = self.pattern.search(value)
                    if m:
                        return (kind, value), {k: v for k, v in m.groupdict().items() if v}
                continue
            for value, low in zip(facts.values(kind), facts.lowered(kind), strict=True):
                if (
                    (self.op == "equals" and low == self.needle)
                    or (self.op == "contains" and self.needle in low)
                    or (self.op == "prefix" and low.startswith(self.needle))
                ):
                    return (kind, value), {}
        return None

    def triggers(self) -> frozenset[tuple[str, str]]:
        """(kind, literal) pairs: the kind must be present and hold the literal ("" when unknown)."""
        return frozenset({(self.kind, "" if self.op == "regex" else self.needle)})


@dataclass(frozen=True)
class Group:
    """``all`` (every child holds) or ``any`` (at least one holds) of conditions or groups."""

    mode: str
    children: tuple[Condition | Group, ...]

    def test(self, facts: _Facts) -> tuple[list[Fact], dict[str, str]] | None:
        """All facts of the children that held (for ``any``: every one that held), or ``None``."""
        fired: list[Fact] = []
        caps: dict[str, str] = {}
        for child in self.children:
            if isinstance(child, Condition):
                one = child.test(facts)
                got = ([one[0]], one[1]) if one else None
            else:
                got = child.test(facts)
            if got is None:
                if self.mode == "all":
                    return None
                continue
            fired.extend(got[0])
            for key, value in got[1].items():
                caps.setdefault(key, value)
        if self.mode == "any" and not fired:
            return None
        return fired, caps

    def triggers(self) -> frozenset[tuple[str, str]]:
        """(kind or glob, literal) pairs of which one must be present for this group to hold."""
        if self.mode == "any":
            return frozenset().union(*(c.triggers() for c in self.children))
        # ``all``: any single child's triggers suffice; prefer exact kinds, literals, then the fewest
        options = sorted((c.triggers() for c in self.children),
                         key=lambda t: (any("*" in k for k, _ in t), any(not n for _, n in t), len(t), sorted(t)))
        return options[0]


@dataclass(frozen=True)
class Rule:
    """One rule of one family."""

    id: str
    family: str
    source: str
    confidence: float
    attributes: Mapping[str, str]
    require: Group
    exclude: tuple[Condition | Group, ...] = ()
    support: tuple[Condition, ...] = ()
    description: str = ""

    def match(self, facts: _Facts) -> RuleMatch | None:
        """Evaluate this rule on one device's facts."""
        got = self.require.test(facts)
        if got is None:
            return None
        for cond in self.exclude:
            if cond.test(facts) is not None:
                return None
        fired, caps = list(got[0]), dict(got[1])
        confidence = self.confidence
        for cond in self.support:
            one = cond.test(facts)
            if one is not None:
                fired.append(one[0])
                confidence += cond.weight
                for key, value in one[1].items():
                    caps.setdefault(key, value)
        attrs: dict[str, str] = {}
        for name, template in self.attributes.items():
            needed = _PLACEHOLDER.findall(template)
            if all(n in caps for n in needed):
                value = _PLACEHOLDER.sub(lambda m: caps[m.group(1)].strip(), template).strip()
                if value:
                    attrs[name] = value
        unique = tuple(dict.fromkeys(fired))
        return RuleMatch(self.id, MappingProxyType(attrs), round(min(confidence, 0.99), 4), unique)


@dataclass(frozen=True)
class Family:
    """The ``[family]`` table of one rule file."""

    id: str
    name: str
    clinical: bool
    sources: tuple[str, ...]
    path: str


@dataclass
class RuleSet:
    """A validated, indexed set of rules; :meth:`evaluate` runs them on one device's facts."""

    rules: tuple[Rule, ...]
    families: Mapping[str, Family] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = tuple(sorted(self.rules, key=lambda r: r.id))
        self._by_kind: dict[str, list[tuple[int, str]]] = {}
        self._by_glob: dict[str, list[int]] = {}
        for idx, rule in enumerate(self.rules):
            for kind, literal in sorted(rule.require.triggers()):
                if any(c in kind for c in "*?["):
                    self._by_glob.setdefault(kind, []).append(idx)
                else:
                    self._by_kind.setdefault(kind, []).append((idx, literal))
        self._glob_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load_default(cls) -> RuleSet:
        """Every ``*.toml`` under ``identify/rules/`` shipped with wardwatch, validated."""
        root = resources.files("wardwatch.identify").joinpath("rules")
        files = sorted((p for p in root.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
        return cls._from_texts((f"identify/rules/{p.name}", p.read_text("utf-8")) for p in files)

    @classmethod
    def load(cls, paths: Iterable[str | Path]) -> RuleSet:
        """Rules from the given files (directories are searched for ``*.toml``)."""
        found: list[Path] = []
        for p in map(Path, paths):
            found.extend(sorted(p.glob("*.toml")) if p.is_dir() else [p])
        return cls._from_texts((str(p), p.read_text("utf-8")) for p in found)

    @classmethod
    def _from_texts(cls, texts: Iterable[tuple[str, str]]) -> RuleSet:
        from wardwatch.identify._rulefile import parse_rule_file

        rules: list[Rule] = []
        families: dict[str, Family] = {}
        errors: list[str] = []
        seen: dict[str, str] = {}
        classes = frozenset(default_taxonomy().classes)
        for origin, text in texts:
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                errors.append(f"{origin}: not valid TOML: {exc}")
                continue
            family, file_rules, problems = parse_rule_file(data, origin, classes)
            errors.extend(problems)
            if family is None:
                continue
            if family.id in families:
                first = families[family.id].path
                errors.append(f"{origin}: family.id {family.id!r} already defined in {first}")
            families[family.id] = family
            for rule in file_rules:
                if rule.id in seen:
                    errors.append(f"{origin}: rule id {rule.id!r} already defined in {seen[rule.id]}")
                seen[rule.id] = origin
                rules.append(rule)
        if errors:
            raise RuleError("invalid fingerprint rules:\n" + "\n".join(errors))
        return cls(tuple(rules), families)

    def _glob_rules(self, kind: str) -> tuple[int, ...]:
        got = self._glob_cache.get(kind)
        if got is None:
            got = tuple(i for g, idx in self._by_glob.items() if fnmatch.fnmatchcase(kind, g) for i in idx)
            self._glob_cache[kind] = got
        return got

    def evaluate(self, facts: Mapping[str, Collection[str]]) -> list[RuleMatch]:
        """Every rule that fires on the facts of ONE device, most confident first (ties by rule id)."""
        candidates: set[int] = set()
        view = _Facts(facts)
        for kind in facts:
            indexed = self._by_kind.get(kind)
            if indexed:
                joined = view.joined(kind)
                candidates.update(idx for idx, literal in indexed if not literal or literal in joined)
            if self._by_glob:
                candidates.update(self._glob_rules(kind))
        if not candidates:
            return []
        out = [m for i in sorted(candidates) if (m := self.rules[i].match(view)) is not None]
        out.sort(key=lambda m: (-m.confidence, m.rule_id))
        return out

    def rule(self, rule_id: str) -> Rule:
        """The rule called ``rule_id`` (KeyError when absent)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def make_condition(entry: Mapping[str, Any], where: str, errors: list[str]) -> Condition | None:
    """Validate one condition table; append problems (naming ``where``) to ``errors``."""
    kind = entry.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind):
        errors.append(f"{where}.kind: a dotted lower-case kind such as 'dhcp.hostname' is required")
        return None
    ops = [op for op in OPERATORS if op in entry]
    extra = set(entry) - {"kind", "weight", *OPERATORS}
    if len(ops) != 1 or extra:
        errors.append(f"{where}: exactly one of {', '.join(OPERATORS)} is required"
                      + (f"; unknown field(s) {sorted(extra)}" if extra else ""))
        return None
    op = ops[0]
    needle = entry[op]
    if not isinstance(needle, str) or not needle:
        errors.append(f"{where}.{op}: a non-empty string is required")
        return None
    weight = entry.get("weight", 0.0)
    if not isinstance(weight, int | float) or not 0 <= weight <= 0.5:
        errors.append(f"{where}.weight: a number in [0, 0.5]")
        return None
    pattern = None
    if op == "regex":
        if len(needle) > MAX_REGEX:
            errors.append(f"{where}.regex: longer than {MAX_REGEX} characters")
            return None
        if _NESTED_QUANTIFIER.search(needle) or re.search(r"\\[1-9]", needle):
            errors.append(f"{where}.regex: nested quantifiers or back-references are not allowed")
            return None
        try:
            pattern = re.compile(needle, re.IGNORECASE)
        except re.error as exc:
            errors.append(f"{where}.regex: {exc}")
            return None
    return Condition(kind, op, needle.lower(), pattern, float(weight))


def as_sequence(value: Any) -> Sequence[Any] | None:
    """``value`` when it is a list (TOML array), else ``None``."""
    return value if isinstance(value, list) else None
