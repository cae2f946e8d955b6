"""The PDF executive report (fpdf2): attack surface, risk by department and class, top remediation
actions, trends, and the newest devices.

Text is drawn as plain text (fpdf2's markdown off), so a device that names itself
``<script>alert(1)</script>`` or ``**bold**`` is printed literally and stays inert. The font is DejaVu Sans
from Debian's fonts-dejavu-core when present (full Unicode); otherwise the PDF core font Helvetica,
with text folded to Latin-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from wardwatch import __version__
from wardwatch.reports.data import ReportData, iso_day

#: Where Debian's fonts-dejavu-core puts its TTF files.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
NOT_COMPUTED = "Not computed yet."
BAR = (11, 107, 203)


class ExecutiveReport(FPDF):
    """A4 portrait report with a running header and page numbers."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title
        self.family = _install_font(self)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(title)
        self.set_creator(f"wardwatch {__version__}")

    def text_(self, value: object) -> str:
        """``value`` as text the current font can draw."""
        text = "" if value is None else str(value)
        if self.family == "helvetica":
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def header(self) -> None:
        self.set_font(self.family, "", 8)
        self.set_text_color(90, 103, 118)
        self.cell(0, 6, self.text_(f"wardwatch · {self.report_title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, f"page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        """A section heading."""
        self.ln(3)
        self.set_font(self.family, "B", 13)
        self.cell(0, 8, self.text_(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 10)

    def para(self, text: str) -> None:
        """A paragraph."""
        self.set_font(self.family, "", 10)
        self.multi_cell(0, 5, self.text_(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bars(self, rows: Sequence[tuple[str, float]], unit: str = "") -> None:
        """A horizontal bar chart: label, bar proportional to the value, the value."""
        if not rows:
            self.para("Nothing recorded.")
            return
        top = max((v for _, v in rows), default=0) or 1
        self.set_font(self.family, "", 9)
        for label, value in rows:
            if self.will_page_break(6):
                self.add_page()
            y = self.get_y()
            self.cell(60, 5, self.text_(_clip(label or "unknown", 38)))
            self.set_fill_color(*BAR)
            width = max(0.5, 95 * value / top)
            self.rect(self.l_margin + 61, y + 1, width, 3.2, style="F")
            self.set_x(self.l_margin + 160)
            shown = f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"
            self.cell(25, 5, shown, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]) -> None:
        """A table with a bold header row."""
        self.set_font(self.family, "", 8)
        with self.table(col_widths=tuple(widths), text_align="LEFT", line_height=4.5,
                        first_row_as_headings=True) as table:
            table.row([self.text_(h) for h in header])
            for row in rows:
                table.row([self.text_(_clip(str(c), 60)) for c in row])


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _install_font(pdf: FPDF) -> str:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("dejavu", "", str(regular))
            pdf.add_font("dejavu", "B", str(bold))
            return "dejavu"
    return "helvetica"


def _risk_section(pdf: ExecutiveReport, title: str, rows: list[tuple[str, float, int]] | None) -> None:
    pdf.heading(title)
    if rows is None:
        pdf.para(f"{NOT_COMPUTED} Risk scores appear here once `wardwatch risk` has assessed the devices.")
        return
    pdf.grid(("Group", "Mean risk score", "Devices"), [(g, f"{s:.1f}", n) for g, s, n in rows], (90, 50, 40))


def render(data: ReportData, title: str = "Executive security report") -> bytes:
    """The report as PDF bytes."""
    pdf = ExecutiveReport(title)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 18)
    pdf.cell(0, 12, pdf.text_(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    scope = "all departments" if data.scope is None else "departments " + ", ".join(data.scope)
    pdf.para(f"Generated {iso_day(data.generated)} UTC for {scope}.")

    pdf.heading("Attack surface")
    classified = data.total - data.unknown
    pdf.para(f"Devices seen: {data.total}. Classified: {classified}. Not yet classified: {data.unknown}. "
             f"Subnets in use: {len(data.subnets)}.")
    pdf.heading("Devices by class")
    pdf.bars([(label, n) for label, n in data.by_class])
    pdf.heading("Devices by department")
    pdf.bars([(label, n) for label, n in data.by_department])
    if data.protocols:
        pdf.heading("Protocols seen (flows)")
        pdf.bars([(label, n) for label, n in data.protocols])
    pdf.heading("Findings by severity")
    if data.findings_by_severity:
        pdf.bars([(label, n) for label, n in data.findings_by_severity])
    else:
        pdf.para(f"{NOT_COMPUTED} Import advisories and run matching to list vulnerabilities and hygiene findings.")

    _risk_section(pdf, "Risk by department", data.risk_by_department)
    _risk_section(pdf, "Risk by device class", data.risk_by_class)

    pdf.heading("Top remediation actions")
    if data.plan is None:
        pdf.para(f"{NOT_COMPUTED} The remediation plan appears here once findings are scored and planned.")
    else:
        pdf.grid(("Action", "Owner", "Hours", "Risk removed"),
                 [(a.get("title", ""), a.get("owner_team", ""), a.get("effort_hours", ""),
                   a.get("risk_removed", "")) for a in data.plan[:10]], (95, 35, 20, 30))

    pdf.heading("Trend: devices first seen per week")
    pdf.bars([(label, n) for label, n in data.new_per_week])

    pdf.add_page()
    pdf.heading(f"Newest devices ({len(data.newest)})")
    pdf.grid(("Id", "Name", "Vendor", "Class", "Department", "First seen"),
             [(d.id, d.value("hostname") or d.mac or (d.ips[0] if d.ips else ""),
               d.value("vendor") or d.value("mac_vendor") or "", d.value("device_class") or "",
               d.value("department") or "", iso_day(d.first_seen)) for d in data.newest],
             (12, 50, 38, 30, 30, 30))
    return bytes(pdf.output())
