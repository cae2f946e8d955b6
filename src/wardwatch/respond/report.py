"""The post-incident report as PDF (fpdf2; DejaVu Sans when installed, see ``reports.pdf``).

Sections follow the lessons-learned questions of NIST SP 800-61r2 §3.4.1: what happened and when
(summary and timeline), which devices and alerts, what was done in each phase (tasks, who, when), and the
evidence kept (with SHA-256). All text is drawn literally (no markup), so device-supplied strings stay inert.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fpdf.enums import XPos, YPos

from wardwatch.reports.pdf import ExecutiveReport
from wardwatch.respond.model import Incident
from wardwatch.respond.playbook import Phase, playbooks


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts is not None else "-"


def post_incident_pdf(incident: Incident) -> bytes:
    """The report of one incident as PDF bytes."""
    pdf = ExecutiveReport(f"Post-incident report INC-{incident.id}")
    pdf.alias_nb_pages()
    pdf.add_page()

    def line(text: str, size: int = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font(pdf.family, style, size)
        pdf.multi_cell(0, height, pdf.text_(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(f"INC-{incident.id}: {incident.title}", 16, "B", 8)
    book = playbooks().get(incident.playbook)
    line(f"Severity {incident.severity.name.lower()} · status {incident.status} · phase {incident.phase.label} · "
         f"playbook {book.title if book else incident.playbook}")
    line(f"Opened {_when(incident.opened_at)} by {incident.opened_by}; closed {_when(incident.closed_at)}; "
         f"lead {incident.lead or '-'}")
    if incident.summary:
        pdf.heading("Summary")
        line(incident.summary)

    pdf.heading("Timeline")
    for entry in incident.timeline:
        line(f"{_when(entry.ts)}  {entry.actor}  [{entry.action}]  {entry.detail}", 9)

    pdf.heading("Devices")
    for key, device_class in incident.devices or (("(none recorded)", None),):
        line(f"{key}  {device_class or ''}", 9)
    pdf.heading("Alerts")
    alerts = [e for e in incident.evidence if e.kind == "alert"]
    for item in alerts or []:
        line(f"{item.ref}: {item.description}", 9)
    if not alerts:
        line("(none linked)", 9)

    pdf.heading("Tasks by phase")
    for phase in Phase:
        tasks = incident.tasks_of(phase)
        if not tasks:
            continue
        line(phase.label, 11, "B", 6)
        for task in tasks:
            state = f"done by {task.done_by} at {_when(task.done_at)}" if task.done else "NOT DONE"
            line(f"[{task.kind}] {task.title} — {state}" + (f" ({task.note})" if task.note else ""), 9)

    pdf.heading("Evidence")
    for item in incident.evidence:
        digest = f" sha256 {item.sha256}" if item.sha256 else ""
        line(f"#{item.id} {item.kind} {item.ref} — {item.description}{digest} (added by {item.added_by}, "
             f"{_when(item.added_at)})", 8)
    return bytes(pdf.output())
