"""Reports for a date range: tickets, waits, service times, satisfaction, on-time dossiers."""
from __future__ import annotations

from flask import Response

from ..services.reports import file_name, to_csv, to_xlsx
from . import acting_office_id, endpoint, services
from .schemas import Error, ReportQuery, ReportSummary

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESPONSES = {401: ("Not signed in", Error), 403: ("Not an admin or supervisor", Error),
             422: ("A date that is not YYYY-MM-DD, “from” after “to”, or more than 366 days", Error)}


def _report(query: ReportQuery) -> dict:
    """The signed-in user's office (a province-wide admin names one), for the range asked."""
    office_id = acting_office_id()
    reports = services().reports
    start, end = reports.period(office_id, query.from_, query.to)
    return reports.summary(office_id, start, end)


def _download(data: bytes, content_type: str, name: str) -> Response:
    return Response(data, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})


@endpoint("/reports/summary", "GET", "Report for business dates from..to: tickets, waits, service times, busy "
          "hours, satisfaction, dossiers on time (admin, supervisor)", "reports", access="manager", query=ReportQuery,
          responses={200: ("The report", ReportSummary), **RESPONSES})
def report_summary(query: ReportQuery):  # noqa: ANN201
    return _report(query)


@endpoint("/reports/export.csv", "GET", "The same report as one CSV file (UTF-8 with BOM, Vietnamese headings; a "
          "titled table per breakdown)", "reports", access="manager", query=ReportQuery,
          responses={200: ("text/csv attachment bao-cao-<from>_<to>.csv", None), **RESPONSES})
def report_csv(query: ReportQuery):  # noqa: ANN201
    report = _report(query)
    return _download(to_csv(report), "text/csv; charset=utf-8", file_name(report, "csv"))


@endpoint("/reports/export.xlsx", "GET", "The same report as an Excel workbook, one sheet per breakdown",
          "reports", access="manager", query=ReportQuery,
          responses={200: ("XLSX attachment bao-cao-<from>_<to>.xlsx", None), **RESPONSES})
def report_xlsx(query: ReportQuery):  # noqa: ANN201
    report = _report(query)
    return _download(to_xlsx(report), XLSX, file_name(report, "xlsx"))
