"""The report page in a real Chromium against a real server: the figures the API gives, four charts drawn
from them, a date range that redraws them, exports that say the same, English, and staff kept out."""
from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

from .conftest import PublicApi

pytestmark = pytest.mark.browser
CHART_DATA = "name => Chart.getChart(document.getElementById('chart-' + name)).data"


def call(server: ServerProcess, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server.url + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def morning(server: ServerProcess) -> dict:
    """Tickets issued at the kiosk, served, missed and rated at counters 1 and 3; a dossier finished today."""
    public = PublicApi(server.url)
    token = {name: call(server, "POST", "/api/v1/auth/token",
                        body={"username": name, "password": DEMO_PASSWORD})["token"] for name in ("staff1", "staff3")}
    tickets = [public.issue(code) for code in ("HOTICH", "HOTICH", "CHUNGTHUC", "DATDAI", "BAOTRO")]
    call(server, "POST", "/api/v1/counters/1/call-next", token["staff1"])        # A001
    call(server, "POST", "/api/v1/counters/1/call-next", token["staff1"])        # A002; A001 finished
    call(server, "POST", "/api/v1/counters/1/no-show", token["staff1"])
    call(server, "POST", "/api/v1/counters/3/call-next", token["staff3"])        # D001
    call(server, "POST", "/api/v1/counters/3/finish", token["staff3"])
    for ticket, level in ((tickets[0], "very_satisfied"), (tickets[3], "unsatisfied")):
        call(server, "POST", "/api/v1/ratings", body={"track_token": ticket["track_url"].rsplit("/", 1)[1],
                                                       "level": level})
    now = datetime.now(timezone.utc)
    call(server, "POST", "/api/v1/dossiers", token["staff1"], {
        "code": "000.00.12.H56-250101-0001", "procedure_name": "Chứng thực bản sao từ bản chính",
        "received_at": (now - timedelta(days=2)).isoformat(), "appointment_at": (now + timedelta(days=2)).isoformat(),
        "status": 9, "status_at": now.isoformat()})
    return {"tickets": tickets}


def sign_in(page: Page, username: str) -> None:
    page.goto("/login?next=/admin/reports")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/reports**")


def shown(page: Page) -> dict:
    """The report the page is showing, as the API gives it for the page's own range."""
    expect(page.locator("#report-status")).to_contain_text("(")
    start, end = page.input_value("#range-from"), page.input_value("#range-to")
    response = page.request.get(f"/api/v1/reports/summary?from={start}&to={end}")
    assert response.ok
    return response.json()


def values(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "cells => cells.map(c => c.dataset.value)")


def number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def row_figures(row: dict, issued: bool) -> list:
    figures = [row["issued"]] if issued else []
    return figures + [row["called"], row["served"], row["no_show"], row["transferred"],
                      row["wait"]["mean_min"], row["wait"]["median_min"], row["wait"]["p90_min"],
                      row["service_time"]["mean_min"], row["service_time"]["median_min"],
                      row["service_time"]["p90_min"], row["ratings"]["count"], row["ratings"]["satisfied_pct"]]


def test_the_page_shows_the_figures_and_draws_the_charts(page: Page, morning: dict) -> None:
    sign_in(page, "admin")
    report = shown(page)
    totals, sat, dossiers = report["totals"], report["satisfaction"], report["dossiers"]
    assert (totals["issued"], totals["served"], totals["no_show"]) >= (5, 2, 1)
    assert sat["count"] >= 2 and dossiers["total"] >= 1
    expect(page.locator("#card-issued")).to_have_text(str(totals["issued"]))
    card = {name: number(page.get_attribute(f"#card-{name}", "data-value"))
            for name in ("issued", "served", "no_show", "wait", "satisfied", "in_time")}
    assert card == {"issued": totals["issued"], "served": totals["served"], "no_show": totals["no_show"],
                    "wait": totals["wait"]["mean_min"], "satisfied": sat["satisfied_pct"],
                    "in_time": dossiers["in_time_pct"]}
    assert "," in page.inner_text("#card-satisfied") or sat["satisfied_pct"] % 1 == 0    # 66,7% in Vietnamese
    for row in report["by_service"]:
        key = f"#table-service tr[data-key='{row['code']}'] td"
        assert [number(v) for v in values(page, key)] == row_figures(row, True)
    for row in report["by_officer"]:
        assert [number(v) for v in values(page, f"#table-officer tr[data-key='{row['username']}'] td")] == \
            row_figures(row, False)
    expect(page.locator("#table-service tbody th").first).to_have_text("Hộ tịch")

    hours = page.evaluate(CHART_DATA, "hours")
    by_hour = {h["hour"]: h["issued"] for h in report["hours"]}
    assert hours["datasets"][0]["data"] == [by_hour[int(label[:2])] for label in hours["labels"]]
    assert sum(hours["datasets"][0]["data"]) == totals["issued"]
    waits = page.evaluate(CHART_DATA, "waits")
    assert waits["datasets"][0]["data"] == [b["count"] for b in report["wait_distribution"]]
    satisfaction = page.evaluate(CHART_DATA, "satisfaction")
    assert [d["label"] for d in satisfaction["datasets"]] == [lv["name_vi"] for lv in sat["levels"]]
    assert satisfaction["labels"] == [f"Quầy {c['number']}" for c in sat["by_counter"]]
    assert satisfaction["datasets"][0]["data"] == [c["levels"][sat["levels"][0]["level"]] for c in sat["by_counter"]]
    doughnut = page.evaluate(CHART_DATA, "dossiers")
    assert doughnut["labels"] == ["Trước hạn", "Đúng hạn", "Quá hạn"]
    assert doughnut["datasets"][0]["data"] == [dossiers["early"], dossiers["on_time"], dossiers["late"]]
    assert page.evaluate("Chart.getChart(document.getElementById('chart-dossiers')).config.type") == "doughnut"


def test_the_date_range_redraws_the_report(page: Page, morning: dict) -> None:
    sign_in(page, "admin")
    today = shown(page)["to"]
    page.fill("#range-from", "2020-01-01")
    page.fill("#range-to", "2020-01-31")
    page.click("#range-form button[type=submit]")
    expect(page.locator("#no-data")).to_be_visible()
    expect(page.locator("#card-issued")).to_have_text("0")
    assert "from=2020-01-01&to=2020-01-31" in page.url
    assert page.evaluate(CHART_DATA, "dossiers")["datasets"][0]["data"] == [0, 0, 0]
    expect(page.locator("#export-xlsx")).to_have_attribute(
        "href", "/api/v1/reports/export.xlsx?from=2020-01-01&to=2020-01-31")
    page.fill("#range-from", "2020-02-01")          # after "to": the server's message, and no old figures
    page.click("#range-form button[type=submit]")
    expect(page.locator("#range-error")).to_contain_text("Từ ngày")
    expect(page.locator("#report-status")).to_have_text(
        "Chưa có báo cáo cho khoảng ngày này. Vui lòng sửa ngày rồi bấm «Xem báo cáo».")
    expect(page.locator("#report-figures")).to_be_hidden()
    expect(page.locator("#card-issued")).to_be_hidden()
    expect(page.locator("#table-service")).to_be_hidden()
    expect(page.locator("#no-data")).to_be_hidden()
    expect(page.locator("#export-xlsx")).not_to_have_attribute("href", re.compile(".*"))
    page.screenshot(path="/tmp/motcua-reports-bad-range.png", full_page=True)
    page.get_by_role("button", name="7 ngày").click()
    expect(page.locator("#range-to")).to_have_value(today)
    expect(page.locator("#report-figures")).to_be_visible()
    expect(page.locator("#no-data")).to_be_hidden()
    report = shown(page)
    assert (datetime.fromisoformat(report["to"]) - datetime.fromisoformat(report["from"])).days == 6
    expect(page.locator("#card-issued")).to_have_text(str(report["totals"]["issued"]))
    page.reload()                                    # the range lives in the address
    expect(page.locator("#range-from")).to_have_value(report["from"])


def test_exports_download_the_figures_on_screen(page: Page, morning: dict) -> None:
    sign_in(page, "admin")
    shown(page)
    screen = {code: [number(v) for v in values(page, f"#table-service tr[data-key='{code}'] td")]
              for code in page.eval_on_selector_all("#table-service tbody tr", "rows => rows.map(r => r.dataset.key)")}
    start = page.input_value("#range-from")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename == f"bao-cao-{start}_{page.input_value('#range-to')}.xlsx"
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    header, *rows = list(book["Theo dịch vụ"].values)
    assert header[2] == "Số phiếu cấp"
    assert {row[0]: list(row[2:]) for row in rows} == screen
    with page.expect_download() as download:
        page.click("#export-csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    lines = list(csv.reader(io.StringIO(text)))
    start_row = lines.index(["Theo dịch vụ"]) + 2
    csv_rows = {row[0]: [number(v) for v in row[2:]] for row in lines[start_row:start_row + len(screen)]}
    assert csv_rows == screen


def test_english_view(page: Page, morning: dict) -> None:
    sign_in(page, "admin")
    page.goto("/admin/reports?lang=en")
    expect(page.locator("#report-title")).to_have_text("Activity report")
    expect(page.locator("#by-service-title")).to_have_text("By service")
    expect(page.locator("#table-counter thead th").first).to_have_text("Counter")
    expect(page.locator("[data-card=issued] .stat-label")).to_have_text("Tickets issued")
    expect(page.locator("#report-status")).to_contain_text("Report from")
    expect(page.locator("#table-service tbody th").first).to_have_text("Civil status registration")
    assert page.evaluate(CHART_DATA, "dossiers")["labels"] == ["Early", "On time", "Late"]


def test_english_counts_are_singular_or_plural(page: Page, morning: dict) -> None:
    sign_in(page, "admin")
    page.goto("/admin/reports?lang=en")
    report = shown(page)                            # today's: one day
    assert report["days"] == 1
    expect(page.locator("#report-status")).to_contain_text("(1 day), made at")
    expect(page.locator("#card-issued-note")).to_have_text("1 day")
    ratings, dossiers = report["satisfaction"]["count"], report["dossiers"]["total"]
    expect(page.locator("#card-satisfied-note")).to_have_text(f"{ratings} rating" + ("" if ratings == 1 else "s"))
    expect(page.locator("#card-in_time-note")).to_have_text(
        f"{dossiers} dossier{'' if dossiers == 1 else 's'} finished")
    assert dossiers == 1 and ratings == 2           # both forms seen
    page.get_by_role("button", name="7 days").click()
    expect(page.locator("#report-status")).to_contain_text("(7 days), made at")
    expect(page.locator("#card-issued-note")).to_have_text("7 days")
    page.goto("/admin/reports?lang=vi")             # Vietnamese has one form
    expect(page.locator("#card-issued-note")).to_have_text("1 ngày")
    expect(page.locator("#card-in_time-note")).to_have_text("1 hồ sơ giải quyết xong")


def test_without_chart_js_the_tables_still_show(page: Page, morning: dict) -> None:
    page.route("**/admin/vendor/chart.min.js", lambda route: route.abort())
    sign_in(page, "admin")
    report = shown(page)
    expect(page.locator("#charts-unavailable")).to_be_visible()
    expect(page.locator("#card-issued")).to_have_text(str(report["totals"]["issued"]))
    expect(page.locator("#table-service tbody tr")).to_have_count(len(report["by_service"]))
    expect(page.locator("#chart-dossiers-table")).to_contain_text("Trước hạn")


def test_staff_may_not_open_reports(page: Page, morning: dict) -> None:
    sign_in_page = page.goto("/login?next=/counter")
    assert sign_in_page.ok
    page.fill("#username", "staff2")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/counter")
    response = page.goto("/admin/reports")
    assert response.status == 403
    assert page.request.get("/api/v1/reports/summary").status == 403
