"""The executive PDF renders (pdftoppm), holds the inventory's numbers (pdftotext) and hostile names
inert; CSV and XLSX exports from the UI, the API and the CLI."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import require_tool
from tests.web.world import CLINICIAN_DEPARTMENT, HOSTILE, OTHER_DEPARTMENT, World
from wardwatch.cli.report import report
from wardwatch.web.auth.roles import Role


def _pdf_text(path: Path) -> str:
    return subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _pages(path: Path, tmp: Path) -> list[Path]:
    subprocess.run([require_tool("pdftoppm"), "-r", "40", "-gray", str(path), str(tmp / "page")], check=True)
    return sorted(tmp.glob("page*.pgm"))


def _ink(pgm: Path) -> float:
    """Share of pixels darker than light grey in a binary PGM (P5) image."""
    data = pgm.read_bytes()
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert match, "pdftoppm -gray writes binary PGM"
    pixels = data[match.end():]
    return sum(1 for b in pixels if b < 200) / len(pixels)


def test_pdf_renders_with_expected_numbers(world: World, session_for: Callable[[Role], TestClient],
                                           tmp_path: Path) -> None:
    """Two or more non-blank pages; the text holds the device total and the department counts."""
    response = session_for(Role.manager).get("/reports/executive.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    assert response.content.startswith(b"%PDF-")
    for marker in (b"/JavaScript", b"/JS ", b"/JS(", b"/Launch", b"/AA "):  # no active content
        assert marker not in response.content
    pages = _pages(path, tmp_path)
    info = subprocess.run([require_tool("pdfinfo"), str(path)], check=True, capture_output=True, text=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert len(pages) == count >= 2
    for page in pages:
        assert _ink(page) > 0.005, f"{page.name} is blank"
    text = _pdf_text(path)
    total = world.inventory.count_devices()
    assert re.search(rf"Devices seen: {total}\b", text)
    for department, ids in ((CLINICIAN_DEPARTMENT, world.icu), (OTHER_DEPARTMENT, world.radiology)):
        assert re.search(rf"^\s*{department}\s+{len(ids)}\s*$", text, re.M), department
    assert "Not computed yet" in text  # risk and plan do not exist yet, and the report says so
    flat = re.sub(r"\s+", "", text)
    for payload in HOSTILE:
        assert re.sub(r"\s+", "", payload) in flat  # printed literally, as text


def test_clinician_cannot_download_reports(session_for: Callable[[Role], TestClient]) -> None:
    """Reports are for roles with reports:read."""
    assert session_for(Role.clinician).get("/reports/executive.pdf").status_code == 403


def test_exports_csv_xlsx(world: World, api: Callable[[Role | None], TestClient]) -> None:
    """The inventory CSV and XLSX have one row per device; findings/plan say they are not computed."""
    client = api(Role.it_network)
    csv_text = client.get("/api/v1/reports/inventory.csv").text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,mac,ips,hostname")
    assert len(lines) - 1 == world.inventory.count_devices()
    assert client.get("/api/v1/reports/findings.csv").status_code == 404
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/api/v1/reports/inventory.xlsx").content))
    assert book.sheetnames == ["Inventory"]
    rows = list(book["Inventory"].iter_rows(values_only=True))
    assert len(rows) - 1 == world.inventory.count_devices()
    hostnames = {r[3] for r in rows[1:]}
    assert set(HOSTILE) <= hostnames


def test_formula_cells_are_defused() -> None:
    """A value starting with = is written with a leading apostrophe, as text."""
    from openpyxl import load_workbook

    from wardwatch.reports.tables import to_csv, to_xlsx

    rows = [["name"], ["=HYPERLINK(\"http://x\")"], ["+1"], ["ok"]]
    assert to_csv(rows).splitlines()[1].startswith("\"'=HYPERLINK")
    sheet = load_workbook(io.BytesIO(to_xlsx({"t": rows})))["t"]
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\")" and sheet["A2"].data_type == "s"


@pytest.mark.parametrize("fmt", ["pdf", "csv", "xlsx"])
def test_cli_report(world: World, tmp_path: Path, fmt: str) -> None:
    """``wardwatch report --format F -o FILE`` writes the same kind of file."""
    app = typer.Typer()
    app.command()(report)

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = {"db": world.url}

    out = tmp_path / f"r.{fmt}"
    result = CliRunner().invoke(app, ["report", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    head = out.read_bytes()[:5]
    assert head == {"pdf": b"%PDF-", "csv": b"id,ma", "xlsx": b"PK\x03\x04"[:4] + head[4:5]}[fmt]
    bad = CliRunner().invoke(app, ["report", "--format", "docx", "-o", str(out)])
    assert bad.exit_code == 2
