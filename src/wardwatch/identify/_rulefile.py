"""Validation of one fingerprint rule file (the schema is documented in ``identify.fingerprint``).

Like pySigma's rule parser, it collects every problem of a file (each naming the file and the field)
instead of stopping at the first one, so an author fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wardwatch.identify.fingerprint import (
    _PLACEHOLDER,
    ATTRIBUTES,
    Condition,
    Family,
    Group,
    Rule,
    as_sequence,
    make_condition,
)

_RULE_FIELDS = frozenset({"id", "description", "confidence", "attributes", "all", "any", "none", "support"})
_FAMILY_FIELDS = frozenset({"id", "name", "clinical", "sources"})


def _node(entry: Any, where: str, errors: list[str]) -> Condition | Group | None:
    if not isinstance(entry, Mapping):
        errors.append(f"{where}: a table is required")
        return None
    if "kind" in entry:
        return make_condition(entry, where, errors)
    modes = [m for m in ("all", "any") if m in entry]
    if len(modes) != 1 or len(entry) != 1:
        errors.append(f"{where}: a condition needs 'kind', or a nested group exactly one of 'all'/'any'")
        return None
    return _group(modes[0], entry[modes[0]], f"{where}.{modes[0]}", errors)


def _group(mode: str, items: Any, where: str, errors: list[str]) -> Group | None:
    seq = as_sequence(items)
    if not seq:
        errors.append(f"{where}: a non-empty array of conditions is required")
        return None
    children = [_node(item, f"{where}[{i}]", errors) for i, item in enumerate(seq)]
    if any(c is None for c in children):
        return None
    return Group(mode, tuple(c for c in children if c is not None))


def _family(data: Mapping[str, Any], origin: str, errors: list[str]) -> Family | None:
    fam = data.get("family")
    if not isinstance(fam, Mapping):
        errors.append(f"{origin}: [family] table is required")
        return None
    extra = set(fam) - _FAMILY_FIELDS
    if extra:
        errors.append(f"{origin}: family: unknown field(s) {sorted(extra)}")
    fid, name, clinical = fam.get("id"), fam.get("name"), fam.get("clinical")
    sources = fam.get("sources")
    ok = True
    if not isinstance(fid, str) or not fid.replace("-", "").replace("_", "").isalnum() or fid != fid.lower():
        errors.append(f"{origin}: family.id: lower-case letters, digits, '-' and '_' required")
        ok = False
    if not isinstance(name, str) or not name:
        errors.append(f"{origin}: family.name: a non-empty string is required")
        ok = False
    if not isinstance(clinical, bool):
        errors.append(f"{origin}: family.clinical: true or false is required")
        ok = False
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
        errors.append(f"{origin}: family.sources: a non-empty array of strings (where the traits come from)")
        ok = False
    if not ok:
        return None
    assert isinstance(fid, str) and isinstance(name, str) and isinstance(clinical, bool)
    return Family(fid, name, clinical, tuple(sources or ()), origin)


def _rule(entry: Any, where: str, family: Family, classes: frozenset[str],
          errors: list[str]) -> Rule | None:
    if not isinstance(entry, Mapping):
        errors.append(f"{where}: must be a table")
        return None
    before = len(errors)
    extra = set(entry) - _RULE_FIELDS
    if extra:
        errors.append(f"{where}: unknown field(s) {sorted(extra)}")
    rid = entry.get("id")
    if not isinstance(rid, str) or not rid.startswith(family.id + "."):
        errors.append(f"{where}.id: a string starting with the family id '{family.id}.' is required")
    conf = entry.get("confidence")
    if not isinstance(conf, int | float) or not 0 < conf < 1:
        errors.append(f"{where}.confidence: a number strictly between 0 and 1 is required")
    attrs = entry.get("attributes")
    if not isinstance(attrs, Mapping) or not attrs:
        errors.append(f"{where}.attributes: a non-empty table is required")
        attrs = {}
    for key, value in attrs.items():
        if key not in ATTRIBUTES:
            errors.append(f"{where}.attributes.{key}: unknown attribute (one of {sorted(ATTRIBUTES)})")
        elif not isinstance(value, str) or not value:
            errors.append(f"{where}.attributes.{key}: a non-empty string is required")
    dclass = attrs.get("device_class")
    if isinstance(dclass, str) and dclass not in classes:
        errors.append(f"{where}.attributes.device_class: {dclass!r} is not a taxonomy class")
    parts: list[Condition | Group] = []
    for mode in ("all", "any"):
        if mode in entry:
            grp = _group(mode, entry[mode], f"{where}.{mode}", errors)
            if grp is not None:
                parts.append(grp)
    if "all" not in entry and "any" not in entry:
        errors.append(f"{where}: at least one of 'all' or 'any' is required")
    exclude: list[Condition | Group] = []
    if "none" in entry:
        grp = _group("any", entry["none"], f"{where}.none", errors)
        exclude = list(grp.children) if grp else []
    support: list[Condition] = []
    for i, item in enumerate(as_sequence(entry.get("support", [])) or []):
        cond = _node(item, f"{where}.support[{i}]", errors)
        if isinstance(cond, Condition):
            support.append(cond)
        elif cond is not None:
            errors.append(f"{where}.support[{i}]: plain conditions only")
    captures = {g for n in parts for g in _groups(n)} | {g for c in support for g in _groups(c)}
    for key, value in attrs.items():
        for name in _PLACEHOLDER.findall(value if isinstance(value, str) else ""):
            if name not in captures:
                errors.append(f"{where}.attributes.{key}: placeholder {{{name}}} names no regex group")
    if len(errors) > before:
        return None
    assert isinstance(rid, str) and isinstance(conf, int | float)
    require = parts[0] if len(parts) == 1 else Group("all", tuple(parts))
    assert isinstance(require, Group)
    return Rule(
        id=rid, family=family.id, source=family.path, confidence=float(conf),
        attributes=dict(attrs), require=require, exclude=tuple(exclude), support=tuple(support),
        description=str(entry.get("description", "")),
    )


def _groups(node: Condition | Group) -> set[str]:
    if isinstance(node, Condition):
        return set(node.pattern.groupindex) if node.pattern is not None else set()
    return {g for c in node.children for g in _groups(c)}


def parse_rule_file(
    data: Mapping[str, Any], origin: str, classes: frozenset[str]
) -> tuple[Family | None, list[Rule], list[str]]:
    """The family and rules of one parsed TOML file, and the list of problems found."""
    errors: list[str] = []
    extra = set(data) - {"family", "rule"}
    if extra:
        errors.append(f"{origin}: unknown top-level table(s) {sorted(extra)}")
    family = _family(data, origin, errors)
    rules_raw = as_sequence(data.get("rule"))
    if not rules_raw:
        errors.append(f"{origin}: at least one [[rule]] is required")
        return family, [], errors
    if family is None:
        return None, [], errors
    rules = [_rule(r, f"{origin}: rule[{i}]", family, classes, errors) for i, r in enumerate(rules_raw)]
    return family, [r for r in rules if r is not None], errors
