"""The planner's input rebuilt from the stored evaluation, without matching again (issue 4).

Rows of one finding template (same fingerprint and the same content digest, which covers the whole stored
row but the device id) hold the same finding, so each template's JSON is read and parsed once, whatever the
number of devices; a device's context is parsed once per distinct text. Devices are then grouped into the
same profiles as the evaluation builds (:class:`~wardwatch.risk.profiles.ProfileBuilder`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wardwatch.intel.store import KnowledgeBase
from wardwatch.risk.bulk import ID_PREFIX, select_rows
from wardwatch.risk.findings import Scored, finding_from_dict
from wardwatch.risk.profiles import ProfileBuilder
from wardwatch.risk.score import DeviceContext, RiskWeights
from wardwatch.risk.service import intel_facts
from wardwatch.risk.store import FindingState
from wardwatch.risk.whatif import DeviceRisk, Scorer

_Context = tuple[DeviceContext, bool, str, str]
_NONE: list[Scored] = []


def _parse_context(text: str, memo: dict[str, _Context]) -> _Context:
    """(context, clinical, vendor, model) of one stored context JSON (parsed once per distinct rest)."""
    comma = text.find(",") if text.startswith(ID_PREFIX) else -1
    rest = text[comma:] if comma > 0 else text
    found = memo.get(rest)
    if found is None:
        ctx = json.loads(text)
        extra = {k: ctx.pop(k, None) for k in ("vendor", "model", "clinical")}
        ctx["controls"] = tuple(ctx.get("controls") or ())
        ctx.pop("device_id", None)
        found = (DeviceContext(device_id=None, **ctx), bool(extra["clinical"]), extra["vendor"] or "",
                 extra["model"] or "")
        if comma > 0:
            memo[rest] = found
    return found


def _templates(conn: sa.Connection, wanted: dict[tuple[str, str], int],
               rows: dict[tuple[str, str], tuple[float, str | None]]) -> dict[tuple[str, str], Scored]:
    """One :class:`Scored` per (fingerprint, digest), from the JSON of one representative row each."""
    by_id = {row_id: key for key, row_id in wanted.items()}
    ids = sorted(by_id)
    out: dict[tuple[str, str], Scored] = {}
    for start in range(0, len(ids), 2000):
        part = ", ".join(str(i) for i in ids[start:start + 2000])
        for row_id, data, explanation in select_rows(
                conn, f"SELECT id, CAST(data AS TEXT), explanation FROM risk_findings WHERE id IN ({part})"):
            key = by_id[int(row_id)]
            document: dict[str, Any] = json.loads(data)
            document.setdefault("explanation", explanation)
            priority, ssvc = rows[key]
            out[key] = Scored(key[0], finding_from_dict(document), priority, ssvc,
                              int(document.get("sla_days", 90)))
    return out


def load_state(engine: sa.Engine, kb: KnowledgeBase, weights: RiskWeights) -> tuple[dict[int, DeviceRisk], Scorer]:
    """Device id → its risk profile (from the stored assessments and the findings that count), and a scorer."""
    per_device: dict[int, list[tuple[str, str, str]]] = {}
    wanted: dict[tuple[str, str], int] = {}
    content: dict[tuple[str, str], tuple[float, str | None]] = {}
    with engine.connect() as conn:
        query = ("SELECT device_id, fingerprint, digest, state, priority, ssvc, id FROM risk_findings "
                 "WHERE state IN ('open', 'accepted') AND status IN ('affected', 'possibly_affected') "
                 "ORDER BY device_id, id")
        for device_id, fp, digest, state, priority, ssvc, row_id in select_rows(conn, query):
            key = (fp, digest)
            if key not in wanted:
                wanted[key] = int(row_id)
                content[key] = (float(priority), ssvc)
            per_device.setdefault(int(device_id), []).append((fp, digest, state))
        templates = _templates(conn, wanted, content)
        memo: dict[str, _Context] = {}
        lists: dict[tuple[tuple[str, str], ...], list[Scored]] = {}
        profiles = ProfileBuilder()
        for device_id, text in select_rows(
                conn, "SELECT device_id, CAST(context AS TEXT) FROM risk_assessments ORDER BY device_id"):
            ctx, clinical, vendor, model = _parse_context(text, memo)
            found = per_device.get(int(device_id), ())
            keys = tuple((fp, digest) for fp, digest, _ in found)
            scored: Sequence[Scored] = _NONE
            if keys:
                scored = lists.get(keys) or lists.setdefault(keys, [templates[k] for k in keys])
            states = {fp: FindingState.ACCEPTED for fp, _, st in found if st == FindingState.ACCEPTED.value}
            profiles.add(int(device_id), ctx, scored, clinical=clinical, vendor=vendor, model=model, states=states)
    cves = sorted({s.finding.cve for s in templates.values() if s.finding.cve})
    return profiles.finish(), Scorer(weights, intel_facts(kb, cves).enrichment())
