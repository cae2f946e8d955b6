"""Bulk import of manual context (department, location, owner, criticality ...) from a CMMS CSV/XLSX.

The upload is written to a private temporary file and handed to ``inventory.imports.import_assets``;
imported values take the resolver's IMPORT tier (below a person's manual value). Every import is written
to the audit log with its counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from wardwatch.errors import WardwatchError
from wardwatch.inventory.imports import ImportSummary, import_assets
from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.render import page
from wardwatch.web.routes.pages import services
from wardwatch.web.security import require

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["devices"])

Editor = Annotated[User, Depends(require(Permission.devices_write))]

#: Largest upload accepted (a register of 100 000 devices is a few MB).
MAX_UPLOAD = 32 * 1024 * 1024


async def _run(request: Request, user: User, upload: UploadFile) -> ImportSummary:
    name = Path(upload.filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".txt", ".tsv"):
        raise HTTPException(400, "upload a .csv or .xlsx file")
    body = await upload.read(MAX_UPLOAD + 1)
    if len(body) > MAX_UPLOAD:
        raise HTTPException(413, "file too large")
    with tempfile.TemporaryDirectory(prefix="wardwatch-import-") as folder:
        path = Path(folder) / ("import" + suffix)
        path.write_bytes(body)
        try:
            summary = import_assets(services(request).inventory, path)
        except WardwatchError as exc:
            request.app.state.access.audit(user.username, "device.import.rejected", name[:200], {"error": str(exc)})
            raise HTTPException(400, str(exc).replace(str(path), name)) from exc
    services(request).stats.invalidate()
    request.app.state.access.audit(user.username, "device.import", name[:200], _summary(summary, name))
    return summary


def _summary(summary: ImportSummary, name: str) -> dict[str, Any]:
    return {"file": name, "rows": summary.rows, "imported": summary.imported, "new": summary.devices_new,
            "updated": summary.devices_updated, "unknown_columns": list(summary.unknown_columns),
            "malformed": [{"row": r, "problem": p} for r, p in summary.malformed[:100]]}


@router.get("/devices/import", response_class=HTMLResponse)
def import_form(request: Request, user: Editor) -> HTMLResponse:
    """The upload form."""
    return page(request, "import.html", user, result=None)


@router.post("/devices/import", response_class=HTMLResponse)
async def import_upload(request: Request, user: Editor, file: UploadFile) -> Response:
    """Import an uploaded register and show what it did."""
    summary = await _run(request, user, file)
    return page(request, "import.html", user, result=_summary(summary, Path(file.filename or "").name))


@api.post("/devices/import")
async def api_import(request: Request, user: Editor, file: UploadFile) -> dict[str, Any]:
    """Import a CMMS CSV/XLSX (multipart field ``file``); returns the counts and the rows skipped."""
    summary = await _run(request, user, file)
    return _summary(summary, Path(file.filename or "").name)
