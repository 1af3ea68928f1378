"""The report API: who may read it, what it refuses, and exports that say what the summary says."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from queue_server.api.schemas import ReportSummary

SUMMARY = "/api/v1/reports/summary"
TODAY = "2026-11-23"


@pytest.fixture
def served(client, api, clock):  # noqa: ANN001, ANN201
    """A morning at the demo office, through the API: issued, served, one absent, one transferred, rated."""
    staff1 = api.headers("staff1")          # counter 1: Hộ tịch, Chứng thực, Tư pháp
    staff4 = api.headers("staff4")          # counter 4: Bảo trợ xã hội
    tickets = [client.post("/api/v1/tickets", json={"service": code}).json
               for code in ("HOTICH", "HOTICH", "CHUNGTHUC", "TUPHAP")]
    clock.advance(minutes=4)
    assert client.post("/api/v1/counters/1/call-next", headers=staff1).status_code == 200   # A001, waited 4 min
    clock.advance(minutes=6)
    assert client.post("/api/v1/counters/1/call-next", headers=staff1).status_code == 200   # A002; A001 done
    clock.advance(minutes=1)
    assert client.post("/api/v1/counters/1/no-show", headers=staff1).status_code == 200
    assert client.post("/api/v1/counters/1/call-next", headers=staff1).status_code == 200   # B001
    clock.advance(minutes=2)
    r = client.post("/api/v1/counters/1/transfer", json={"service": "BAOTRO"}, headers=staff1)
    assert r.status_code == 200, r.json
    clock.advance(minutes=3)
    assert client.post("/api/v1/counters/4/call-next", headers=staff4).status_code == 200   # B001 at BAOTRO
    clock.advance(minutes=5)
    assert client.post("/api/v1/counters/4/finish", headers=staff4).status_code == 200
    token = tickets[0]["track_url"].rsplit("/", 1)[1]
    r = client.post("/api/v1/ratings", json={"track_token": token, "level": "very_satisfied"})
    assert r.status_code == 201, r.json
    return tickets


def test_who_may_read_reports(client, api) -> None:  # noqa: ANN001
    assert client.get(SUMMARY).status_code == 401
    r = client.get(SUMMARY, headers=api.headers("staff1"))
    assert r.status_code == 403 and r.json["error"]["code"] == "manager_only"
    for path in ("/api/v1/reports/export.csv", "/api/v1/reports/export.xlsx"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=api.headers("staff2")).status_code == 403
    r = client.get(SUMMARY, headers=api.headers("admin"))
    assert r.status_code == 200
    assert (r.json["from"], r.json["to"], r.json["days"]) == (TODAY, TODAY, 1)   # today by default
    ReportSummary.model_validate(r.json)


@pytest.mark.parametrize(("query", "code"), [
    ("from=2026-11-30&to=2026-11-01", "range_reversed"),
    ("from=2025-01-01&to=2026-01-02", "range_too_long"),
    ("from=2026-02-30", "bad_date"),
    ("from=30/11/2026&to=2026-12-01", "bad_date"),
    ("to=yesterday", "bad_date"),
    ("from=" + "9" * 60, "invalid_input"),
])
def test_bad_ranges_are_refused_with_422(client, api, query: str, code: str) -> None:  # noqa: ANN001
    for path in (SUMMARY, "/api/v1/reports/export.csv", "/api/v1/reports/export.xlsx"):
        r = client.get(f"{path}?{query}", headers=api.headers("admin"))
        assert r.status_code == 422, (path, r.json)
        assert r.json["error"]["code"] == code and r.json["error"]["message_vi"]


def test_the_summary_counts_the_morning(client, api, served) -> None:  # noqa: ANN001
    report = client.get(f"{SUMMARY}?from={TODAY}&to={TODAY}", headers=api.headers("admin")).json
    totals = report["totals"]
    assert (totals["issued"], totals["called"], totals["served"], totals["no_show"], totals["transferred"]) == \
        (4, 4, 2, 1, 1)
    by_code = {row["code"]: row for row in report["by_service"]}
    assert by_code["HOTICH"]["issued"] == 2 and by_code["BAOTRO"]["issued"] == 0
    assert by_code["BAOTRO"]["served"] == 1
    assert by_code["BAOTRO"]["wait"] == {"count": 1, "mean_min": 3.0, "median_min": 3.0, "p90_min": 3.0}
    assert by_code["HOTICH"]["wait"]["median_min"] == 4.0            # 4.0 and 10.0 minutes: rank 1
    assert report["satisfaction"]["count"] == 1 and report["satisfaction"]["satisfied_pct"] == 100.0
    assert {row["username"] for row in report["by_officer"]} == {"staff1", "staff4"}
    assert sum(h["issued"] for h in report["hours"]) == 4 and report["hours"][9]["issued"] == 4


def _csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    assert data.startswith(b"\xef\xbb\xbf")
    sections: dict[str, list[list[str]]] = {}
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    i = 0
    while i < len(rows):
        title = rows[i][0]
        j = i + 1
        while j < len(rows) and rows[j]:
            j += 1
        sections[title] = rows[i + 1:j]
        i = j + 1
    return sections


def _number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def _service_figures(row: dict) -> list:
    return [row["issued"], row["called"], row["served"], row["no_show"], row["transferred"],
            row["wait"]["mean_min"], row["wait"]["median_min"], row["wait"]["p90_min"],
            row["service_time"]["mean_min"], row["service_time"]["median_min"], row["service_time"]["p90_min"],
            row["ratings"]["count"], row["ratings"]["satisfied_pct"]]


def test_csv_and_xlsx_say_what_the_summary_says(client, api, served) -> None:  # noqa: ANN001
    query = f"from={TODAY}&to={TODAY}"
    report = client.get(f"{SUMMARY}?{query}", headers=api.headers("admin")).json
    expected = {row["code"]: _service_figures(row) for row in report["by_service"]}

    r = client.get(f"/api/v1/reports/export.csv?{query}", headers=api.headers("admin"))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == f'attachment; filename="bao-cao-{TODAY}_{TODAY}.csv"'
    sections = _csv_sections(r.data)
    header, *rows = sections["Theo dịch vụ"]
    assert header[:5] == ["Mã dịch vụ", "Dịch vụ", "Số phiếu cấp", "Đã gọi", "Đã phục vụ"]
    assert "% hài lòng" in header and "Chờ P90 (phút)" in header
    assert {row[0]: [_number(v) for v in row[2:]] for row in rows} == expected
    assert rows[0][1] == "Hộ tịch"
    hours = {row[0]: int(row[1]) for row in sections["Theo giờ"][1:]}
    assert hours["09:00–10:00"] == report["hours"][9]["issued"]
    dossier_header, *dossier_rows = sections["Hồ sơ"]
    assert [row[0] for row in dossier_rows] == ["Trước hạn", "Đúng hạn", "Quá hạn", "Tổng (giải quyết xong trong kỳ)"]

    r = client.get(f"/api/v1/reports/export.xlsx?{query}", headers=api.headers("admin"))
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["Content-Disposition"] == f'attachment; filename="bao-cao-{TODAY}_{TODAY}.xlsx"'
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["Tổng hợp", "Theo dịch vụ", "Theo quầy", "Theo cán bộ", "Theo giờ", "Thời gian chờ",
                               "Đánh giá", "Đánh giá theo quầy", "Hồ sơ"]
    header, *rows = list(book["Theo dịch vụ"].values)
    assert header[2] == "Số phiếu cấp"
    assert {row[0]: list(row[2:]) for row in rows} == expected
    officers = {row[0]: row for row in list(book["Theo cán bộ"].values)[1:]}
    staff1 = next(o for o in report["by_officer"] if o["username"] == "staff1")
    assert officers["staff1"][2:5] == (staff1["called"], staff1["served"], staff1["no_show"])
    summary = dict(list(book["Tổng hợp"].values)[1:])
    assert summary["Số phiếu cấp"] == report["totals"]["issued"]
    assert summary["% hài lòng"] == report["satisfaction"]["satisfied_pct"]
