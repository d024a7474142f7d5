"""The dashboard's exports (CSV, Excel): stage times and outcomes, never a reporter's name, phone or photo."""
from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from bots.web import auth
from core import casework, open_data, sla
from core.models import Case

router = APIRouter(prefix="/dashboard", include_in_schema=False)
EXPORT_COLUMNS = ("ticket", "incident_type", "urgent", "state", "submitted_at", "verified_at", "dispatched_at",
                  "accepted_at", "on_scene_at", "resolved_at", "closed_at", "sla_due_at", "sla", "agencies",
                  "report_count", "reject_reason", "rating", "latitude", "longitude", "drill")


@router.get("/export.csv")
async def export_csv(request: Request):
    account, _ = await auth.require(request, page=False)
    rows = await _export_rows(request, exact=auth.sees_exact_place(account))
    await auth.record(request, account.username, "export", detail=f"csv rows={len(rows)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="siaga112-cases.csv"',
                             "Cache-Control": "private, no-store"})


@router.get("/export.xlsx")
async def export_xlsx(request: Request):
    account, _ = await auth.require(request, page=False)
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "cases"
    sheet.append(EXPORT_COLUMNS)
    rows = await _export_rows(request, exact=auth.sees_exact_place(account))
    for row in rows:
        sheet.append(row)
    await auth.record(request, account.username, "export", detail=f"xlsx rows={len(rows)}")
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), headers={"Content-Disposition": 'attachment; filename="siaga112-cases.xlsx"',
                                                "Cache-Control": "private, no-store"},
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


async def _export_rows(request: Request, exact: bool) -> list[list]:
    """Every case with its stage times and outcome; no reporter name, phone, photo or description, and the
    position exact only for operators (`exact`), rounded to about 1 km for everyone else."""
    deps = request.app.state.deps
    now = deps.clock.now()
    async with deps.sessions() as session:
        cases = list((await session.execute(select(Case).where(Case.submitted_at.is_not(None))
                                            .order_by(Case.submitted_at))).scalars())
        agencies = await casework.agencies_by_case(session)
    iso = lambda at: at.isoformat() if at else ""  # noqa: E731
    place = (lambda value: value) if exact else open_data.coarse
    return [[c.ticket, c.incident_type, c.urgent, c.state, iso(c.submitted_at), iso(c.verified_at),
             iso(c.dispatched_at), iso(c.accepted_at), iso(c.on_scene_at), iso(c.resolved_at), iso(c.closed_at),
             iso(c.sla_due_at), sla.outcome(state=c.state, due_at=c.sla_due_at, accepted_at=c.accepted_at,
                                            closed_at=c.closed_at, now=now) or "",
             " ".join(agencies.get(c.id, [])), c.report_count, c.reject_reason or "",
             c.rating or "", place(c.latitude) if c.latitude is not None else "",
             place(c.longitude) if c.longitude is not None else "", "LATIHAN" if c.drill else ""]
            for c in cases]
